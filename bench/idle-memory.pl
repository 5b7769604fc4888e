#!/usr/bin/perl
#
# bench/idle-memory.pl: what an idle keep-alive client connection costs a
# worker. Starts the server with one worker, opens N connections to it over
# loopback, sends one request on each and reads the answer (so every
# connection has been through a full request and is now idle between
# requests), then compares the worker's memory before and after.
#
# Memory is the worker's private dirty memory plus its share of shared pages
# (Pss from /proc/PID/smaps_rollup), which counts what the connections
# really add; the kernel's socket buffers are not part of it.
#
#   bench/idle-memory.pl [--connections N] [--nginx]
#
# With --nginx the same measurement is made on nginx (from Debian's
# package) with the equivalent configuration, for comparison.
# Run as root or with `ulimit -n` above N + 100. Bounded: every connection
# attempt has a timeout, and the servers started here are stopped by pid.

use strict;
use warnings;

use File::Temp qw(tempdir);
use FindBin;
use Getopt::Long;
use IO::Socket::INET;
use POSIX qw(:sys_wait_h);
use Time::HiRes qw(sleep time);

my $conns = 10000;
my $with_nginx = 0;
GetOptions('connections=i' => \$conns, 'nginx' => \$with_nginx) or die "bad options\n";

my $root = "$FindBin::Bin/..";
my $sluice = $ENV{SLUICE_BINARY} // "$root/objs/sluice";
my $port = 20000 + ($$ % 20000);

sub pss_kb
{
    my ($pid) = @_;
    open(my $f, '<', "/proc/$pid/smaps_rollup") or die "smaps_rollup of $pid: $!\n";
    while (<$f>) {
        return $1 if /^Pss:\s+(\d+) kB/;
    }
    die "no Pss for $pid\n";
}

sub children_of
{
    my ($pid) = @_;
    my @kids;
    for my $stat (glob '/proc/[0-9]*/stat') {
        open(my $f, '<', $stat) or next;
        my $line = <$f> // next;
        my ($kid, $ppid) = $line =~ /^(\d+) \(.*\) \S (\d+)/ or next;
        push @kids, $kid if $ppid == $pid;
    }
    return @kids;
}

sub wait_port
{
    for (1 .. 100) {
        my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port", Timeout => 1);
        return 1 if $s;
        sleep 0.05;
    }
    return 0;
}

sub measure
{
    my ($name, $start) = @_;

    my $master = $start->();
    unless (wait_port()) {
        system('cat', glob("$main::dir/logs/*.log"));
        die "$name did not listen on $port\n";
    }
    my ($worker) = children_of($master);
    die "$name: no worker\n" unless $worker;

    # warm the worker up with a few requests first, so the figure is per connection
    for (1 .. 20) {
        my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port", Timeout => 2) or next;
        print $s "GET / HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n";
        local $/;
        my $x = <$s>;
    }
    sleep 0.5;
    my $before = pss_kb($worker);

    my @socks;
    my $deadline = time + 120;
    for my $i (1 .. $conns) {
        last if time > $deadline;
        my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port", Timeout => 2);
        unless ($s) {
            warn "$name: connection $i failed: $!\n";
            last;
        }
        print $s "GET / HTTP/1.1\r\nHost: b\r\n\r\n";
        push @socks, $s;
    }
    # read every answer: then each connection is idle between requests
    my $answered = 0;
    for my $s (@socks) {
        my $buf = '';
        while ($buf !~ /\r\n\r\n.*ok\n/s) {
            my $n = sysread($s, $buf, 4096, length $buf);
            last unless $n;
        }
        $answered++ if $buf =~ /^HTTP\/1\.1 200/;
    }
    sleep 1;
    my $after = pss_kb($worker);

    my $per = @socks ? ($after - $before) * 1024 / @socks : 0;
    printf "%-8s %6d idle connections (%d answered): worker Pss %d kB -> %d kB, %.0f bytes each\n",
        $name, scalar @socks, $answered, $before, $after, $per;

    close $_ for @socks;
    kill 'TERM', $master;
    for (1 .. 100) {
        last if waitpid($master, WNOHANG) == $master;
        sleep 0.05;
    }
    kill 'KILL', $master if kill 0, $master;
    waitpid($master, 0);
    return $per;
}

our $dir = tempdir('sluice-idle-XXXXXX', TMPDIR => 1, CLEANUP => 1);
mkdir "$dir/logs";
mkdir "$dir/conf";
chmod 0755, $dir;

my $nofile = $conns + 200;
my $body = <<"END";
worker_processes 1;
worker_rlimit_nofile $nofile;
error_log logs/error.log warn;
pid logs/server.pid;
events { worker_connections $nofile; }
http {
    access_log off;
    keepalive_timeout 300s;
    keepalive_requests 100000;
    server {
        listen 127.0.0.1:$port;
        location / { return 200 "ok\\n"; }
    }
}
END

open(my $f, '>', "$dir/conf/sluice.conf") or die $!;
print $f $body;
close $f;

measure('sluice', sub {
    my $pid = fork() // die "fork: $!\n";
    if ($pid == 0) {
        exec($sluice, '-p', "$dir/", '-c', 'conf/sluice.conf', '-g', 'daemon off;');
        exit 127;
    }
    return $pid;
});

if ($with_nginx) {
    my $nginx = -x '/usr/sbin/nginx' ? '/usr/sbin/nginx' : undef;
    if (!$nginx) {
        print "nginx    not installed (apt-get install nginx)\n";
        exit 0;
    }
    $port++;
    (my $nbody = $body) =~ s/listen 127\.0\.0\.1:\d+/listen 127.0.0.1:$port/;
    $nbody =~ s/^events/user root;\nevents/m;
    open(my $g, '>', "$dir/conf/nginx.conf") or die $!;
    print $g $nbody;
    close $g;
    measure('nginx', sub {
        my $pid = fork() // die "fork: $!\n";
        if ($pid == 0) {
            exec($nginx, '-p', "$dir/", '-c', "$dir/conf/nginx.conf", '-g', 'daemon off;');
            exit 127;
        }
        return $pid;
    });
}
