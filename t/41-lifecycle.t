#!/usr/bin/perl

# t/41-lifecycle.t: the master's other signals under load (issue 4).
#
# USR2 binary upgrade: the master renames its pid file to pid.oldbin and
# executes the binary it was started from, with the listening sockets in
# SLUICE="fd;fd;..."; both generations serve until WINCH stops the old
# workers and QUIT the old master. An exec that fails, or a new binary that
# cannot load the configuration, leaves the old master serving with its pid
# file back. Keep-alive clients run through all of it and none fails.
#
# USR1 under load (bench/reload.pl's rotate scenario): the access log is
# renamed and reopened; the lines of both files add up to the requests
# answered. SIGKILL of a worker under load (the kill scenario): the requests
# lost are at most those in flight on that worker's connections, the other
# connections lose none, and a new worker takes its place.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use File::Copy qw(copy);
use File::Temp qw(tempdir);
use IO::Socket::IP;
use Test::More;
use Time::HiRes qw(sleep time);
use Sluice::Test qw(port);

BEGIN { require "$FindBin::Bin/../bench/reload.pl"; }

my $check = Sluice::Test->new()->has(qw(http_proxy http_rewrite http_log));
$check->plan(33);

sub read_pid
{
    my ($file) = @_;
    open my $fh, '<', $file or return 0;
    my $line = <$fh> // '';
    return $line =~ /^(\d+)/ ? $1 : 0;
}

# The inode of the socket listening on loopback port.
sub listen_inode
{
    my ($port) = @_;
    open my $fh, '<', '/proc/net/tcp' or return 0;
    while (my $line = <$fh>) {
        my @f = split ' ', $line;
        next unless @f > 9 && $f[3] eq '0A' && $f[1] =~ /:([0-9A-F]{4})$/ && hex $1 == $port;
        return $f[9];
    }
    return 0;
}

# Whether process pid holds the socket of inode.
sub has_inode
{
    my ($pid, $inode) = @_;
    opendir my $d, "/proc/$pid/fd" or return 0;
    for my $fd (readdir $d) {
        my $l = readlink "/proc/$pid/fd/$fd" // next;
        return 1 if $l eq "socket:[$inode]";
    }
    return 0;
}

# Runs the load until cond->() holds or timeout; returns whether it held.
sub load_until
{
    my ($load, $cond, $timeout) = @_;
    my $deadline = time() + $timeout;
    while (time() < $deadline) {
        $load->run_until(time() + 0.05);
        return 1 if $cond->();
    }
    return 0;
}

# --- USR2, WINCH, QUIT -------------------------------------------------------------------

{
    # the binary lives where this test can make it fail to execute
    my $bindir = tempdir('sluice-bin-XXXXXXXX', TMPDIR => 1, CLEANUP => 1);
    chmod 0755, $bindir;
    my $bin = "$bindir/sluice";
    copy($check->binary, $bin) or die "copy: $!";
    chmod 0755, $bin;

    my $t = Sluice::Test->new(binary => $bin);
    $t->write_conf(SluiceReload::conf(gen => 1));
    $t->run(ports => [8081]);
    my $old = $t->pid;
    my $pidfile = $t->prefix . 'logs/sluice.pid';
    my $oldbin = "$pidfile.oldbin";

    local $SluiceReload::FAST_CLIENTS = 8;
    my $load = SluiceReload::new_load(port => port(8081), slow => 0);
    $load->run_until(time() + 0.5);

    # an exec that fails
    chmod 0644, $bin;
    $t->signal('USR2');
    ok(load_until($load, sub { $t->error_log =~ /new binary process \d+ is gone/ }, 5),
       'USR2 with a binary that cannot run: the failed child is reaped');
    like($t->error_log, qr/execve\(\) failed while executing new binary process/,
         '... the failed exec is logged');
    is(read_pid($pidfile), $old, '... the pid file is the old master\'s again');
    ok(!-e $oldbin, '... and no pid.oldbin is left');
    $load->run_until(time() + 0.3);
    is($load->{last_gen}, 1, '... the old master goes on serving');
    chmod 0755, $bin;

    # a new binary that cannot load the configuration
    $t->write_conf(SluiceReload::conf(gen => 2, invalid => 1));
    my $gone = () = $t->error_log =~ /new binary process \d+ is gone/g;
    $t->signal('USR2');
    ok(load_until($load, sub {
           my $n = () = $t->error_log =~ /new binary process \d+ is gone/g;
           return $n > $gone;
       }, 10), 'USR2 with an invalid configuration: the new master exits');
    is(read_pid($pidfile), $old, '... the pid file is the old master\'s again');
    ok(SluiceReload::alive($old), '... and the old master serves on');

    # the upgrade
    $t->write_conf(SluiceReload::conf(gen => 2));
    $t->signal('USR2');
    my $new;
    ok(load_until($load, sub {
           $new = read_pid($pidfile);
           return $new && $new != $old && read_pid($oldbin) == $old;
       }, 10), 'USR2: pid.oldbin holds the old master, the pid file the new one');
    ok(load_until($load, sub { my @c = SluiceReload::children($new); @c == 2 }, 10),
       'USR2: the new master started its workers');
    # the very socket the old master listens on, not a new one on the same port
    my $listener = listen_inode(port(8081));
    my @new_workers = SluiceReload::children($new);
    my @without = grep { !has_inode($_, $listener) } $new, @new_workers;
    ok($listener && @new_workers == 2 && !@without && has_inode($old, $listener),
       'USR2: the new master and its workers hold the inherited listening socket');
    my @old_workers = grep { $_ != $new } SluiceReload::children($old);
    is(scalar @old_workers, 2, 'USR2: the old workers still run beside them');
    like($t->error_log, qr/using inherited sockets from "\d+;/,
         'USR2: the new master took the sockets from the environment');

    $t->signal('WINCH');
    ok(load_until($load, sub { !grep { SluiceReload::alive($_) } @old_workers }, 10),
       'WINCH: the old workers stop gracefully');
    is(join(',', SluiceReload::children($old)), $new,
       'WINCH: the old master is left with only the new master as its child');
    my $ok_before = $load->{ok};
    $load->{gens} = {};
    $load->run_until(time() + 0.5);
    ok($load->{ok} > $ok_before && !$load->{gens}{1}, 'WINCH: the new generation serves alone');

    $t->signal('QUIT');
    ok(load_until($load, sub { !SluiceReload::alive($old) }, 10),
       'QUIT: the old master exits');
    ok(!-e $oldbin, 'QUIT: it removed pid.oldbin');
    is(read_pid($pidfile), $new, 'QUIT: the pid file still names the new master');
    $load->run_until(time() + 0.5);
    $load->finish(10);

    is($load->{failed} + $load->{bad_status}, 0, 'no request failed during the whole upgrade');
    is($load->{refused}, 0, 'no connection refused during the whole upgrade');
    diag("upgrade: $load->{ok} requests, $load->{reconnects} reconnections");
    diag("failure: $_") for @{$load->{failures}}[0 .. ($#{$load->{failures}} < 4
                                                      ? $#{$load->{failures}} : 4)];

    # the new master is the old one's orphan now: stopped by pid
    kill 'QUIT', $new;
    my $deadline = time() + 10;
    sleep 0.05 while SluiceReload::alive($new) && time() < $deadline;
    ok(!SluiceReload::alive($new), 'the new master stops on QUIT');
    kill 'KILL', $new if SluiceReload::alive($new);
    $t->stop();
}

# --- USR1 under load ------------------------------------------------------------------------

{
    my $f = SluiceReload::scenario_rotate();
    diag(join ', ', map { "$_ $f->{$_}" } grep { !ref $f->{$_} } sort keys %$f);
    cmp_ok($f->{requests}, '>', 1000, 'USR1: requests answered around the rotation');
    is($f->{failed}, 0, 'USR1: no request failed');
    cmp_ok($f->{lines_renamed_file}, '>', 0, 'USR1: the renamed file got the lines before');
    cmp_ok($f->{lines_new_file}, '>', 0, 'USR1: the new file got the lines after');
    is($f->{lines_lost}, 0, 'USR1: every request answered has its line in one of the two files');
    $f->{t}->stop();
}

# --- SIGKILL of a worker under load ---------------------------------------------------------

{
    my $f = SluiceReload::scenario_kill();
    diag(join ', ', map { "$_ $f->{$_}" } grep { !ref $f->{$_} } sort keys %$f);
    cmp_ok($f->{victim_connections}, '>', 0, 'KILL: the killed worker had client connections');
    cmp_ok($f->{lost}, '<=', $f->{in_flight_at_kill},
           'KILL: requests lost are at most those in flight on the killed worker');
    is($f->{lost_elsewhere}, 0, 'KILL: the other workers\' connections lost nothing');
    ok($f->{respawned} && $f->{respawn_logged},
       'KILL: the death is logged and a worker replaces it');
    cmp_ok($f->{requests_after_kill}, '>', 100, 'KILL: service goes on');
    is($f->{refused}, 0, 'KILL: no connection refused');
    $f->{t}->stop();
}
