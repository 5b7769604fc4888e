#!/usr/bin/perl

# t/09-process.t: the master and its workers. worker_processes (from the
# file and from -g) gives that many children of the master; a worker killed
# with SIGKILL is replaced and service goes on; USR1 reopens the logs after
# they were renamed; QUIT stops everything and removes the pid file.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Time::HiRes qw(sleep time);
use Sluice::Test qw(http_get http_parse);

my $t = Sluice::Test->new();
my $rw = $t->has_module('http_rewrite');
my $log = $t->has_module('http_log');

my $ret = $rw ? 'return 200 "ok\n";' : '';
my $access = $log ? 'access_log logs/access.log;' : '';

sub conf
{
    my ($main) = @_;
    return <<"END";
error_log logs/error.log info;
$main
events { }
http {
    $access
    server {
        listen 127.0.0.1:%%PORT_8080%%;
        location / { $ret }
    }
}
END
}

# The live (not zombie) children of PID.
sub children
{
    my ($pid) = @_;
    my @c;
    opendir my $d, '/proc' or return ();
    for my $p (grep { /^\d+$/ } readdir $d) {
        open my $fh, '<', "/proc/$p/stat" or next;
        my $stat = <$fh> // '';
        close $fh;
        # pid (comm) state ppid: comm may hold spaces and parentheses.
        my ($state, $ppid) = $stat =~ /\)\s+(\S)\s+(\d+)/ or next;
        push @c, $p + 0 if $ppid == $pid && $state ne 'Z';
    }
    closedir $d;
    return sort { $a <=> $b } @c;
}

# Waits (bounded) until PID has N children; returns them.
sub wait_children
{
    my ($pid, $n, $timeout) = @_;
    my @c;
    my $deadline = time() + ($timeout // 3);
    while (1) {
        @c = children($pid);
        last if @c == $n || time() > $deadline;
        sleep 0.05;
    }
    return @c;
}

sub alive
{
    my ($pid) = @_;
    open my $fh, '<', "/proc/$pid/stat" or return 0;
    my $stat = <$fh> // '';
    return $stat =~ /\)\s+Z/ ? 0 : 1;
}

sub served
{
    my $r = http_parse(http_get('/'));
    return $r && ($rw ? $r->{status} == 200 : $r->{status} > 0);
}

$t->plan(27);

# --- worker_processes from -g ------------------------------------------------------

$t->write_conf(conf(''));
$t->run(globals => 'worker_processes 3;');
my @c = wait_children($t->pid, 3);
is(scalar @c, 3, '-g "worker_processes 3;": three children of the master');
$t->stop();

# --- worker_processes 2 --------------------------------------------------------------

$t->write_conf(conf('worker_processes 2;'));
$t->run();
my $master = $t->pid;
my $pidfile = $t->read_file('logs/sluice.pid') // '';
is($pidfile =~ /^(\d+)\s*$/ ? $1 : $pidfile, $master, 'pid file holds the master pid');

@c = wait_children($master, 2);
is(scalar @c, 2, 'worker_processes 2: two children of the master');
ok(served(), 'requests served');

# What ps shows for each process.
sub title
{
    my ($pid) = @_;
    open my $fh, '<', "/proc/$pid/cmdline" or return '';
    local $/;
    my $t = <$fh> // '';
    $t =~ s/\0+$//;
    return $t;
}
like(title($master), qr{^sluice: master process \S*sluice -p \S+},
     'the master\'s title: "sluice: master process" and its command line');
is(join(',', map { title($_) } @c), 'sluice: worker process,sluice: worker process',
   'the workers\' titles');

# --- a worker killed --------------------------------------------------------------------

my $victim = $c[0];
kill 'KILL', $victim;
my @after;
my $deadline = time() + 5;
while (time() < $deadline) {
    @after = children($master);
    last if @after == 2 && !grep { $_ == $victim } @after;
    sleep 0.05;
}
ok(!grep({ $_ == $victim } @after), 'killed worker is gone');
is(scalar @after, 2, 'killed worker replaced: two workers again');
ok(alive($master), 'master survives the death of a worker');
my $ok = 0;
$ok += served() ? 1 : 0 for 1 .. 10;
is($ok, 10, 'ten requests after the respawn all served');
like($t->error_log, qr/$victim.*(?:signal 9|killed|exited)/i,
     'the death of the worker is logged with its pid');

# --- USR1 reopens the logs ---------------------------------------------------------------

SKIP: {
    skip 'no log module', 4 unless $log;
    my $dir = $t->prefix . 'logs';
    served();
    my $deadline2 = time() + 3;
    sleep 0.05 while !-s "$dir/access.log" && time() < $deadline2;
    ok(-s "$dir/access.log", 'access.log written');
    rename "$dir/access.log", "$dir/access.log.1" or die "rename: $!";
    my $old_size = -s "$dir/access.log.1";
    $t->signal('USR1');
    # The reopen happens in the workers some time after the signal.
    my $ok2 = 0;
    $deadline2 = time() + 5;
    while (time() < $deadline2) {
        served();
        if (-s "$dir/access.log") { $ok2 = 1; last; }
        sleep 0.2;
    }
    ok($ok2, 'USR1: a new access.log created, and requests go to it');
    my $size_before = -s "$dir/access.log.1";
    served();
    sleep 0.3;
    is(-s "$dir/access.log.1", $size_before, 'USR1: the renamed file gets no more lines');
    cmp_ok($size_before, '>=', $old_size, 'USR1: the renamed file kept its lines');
}

SKIP: {
    skip 'no log module', 1 unless $log;
    ok(-e $t->prefix . 'logs/error.log', 'error.log exists after USR1');
}

# --- QUIT -----------------------------------------------------------------------------------

my @workers = children($master);
$t->signal('QUIT');
my $end = time() + 10;
sleep 0.05 while (alive($master) || grep { alive($_) } @workers) && time() < $end;
ok(!grep({ alive($_) } @workers), 'QUIT: every worker exits by itself');
ok(!alive($master), 'QUIT: master exits by itself within 10 s');
ok(!-e $t->prefix . 'logs/sluice.pid', 'QUIT: pid file removed');
my $status = $t->stop();
is(defined $status ? $status >> 8 : -1, 0, 'QUIT: exit code 0');
ok(!http_get('/', timeout => 1), 'QUIT: port closed');

# --- master_process off ----------------------------------------------------------------------

# One process serves; TERM and QUIT stop it cleanly (nothing above notice in the log).
for my $sig ('TERM', 'QUIT') {
    $t->write_conf(conf('master_process off;'));
    unlink $t->prefix . 'logs/error.log';
    $t->run();
    ok(served(), "master_process off: requests served ($sig)");
    $t->signal($sig);
    my $gone = time() + 10;
    sleep 0.05 while alive($t->pid) && time() < $gone;
    ok(!alive($t->pid), "master_process off: $sig stops the process");
    $t->stop();
    unlike($t->error_log, qr/\[(?:alert|crit|emerg|error)\]/,
           "master_process off: $sig leaves no alert in the log");
}
