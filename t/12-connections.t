#!/usr/bin/perl

# t/12-connections.t: worker_connections. Past the cap a worker first closes
# idle connections (ones that sent nothing yet, or idle keep-alive ones) to
# make room, and when none are idle it refuses the newcomer; either way the
# worker keeps serving and does not die.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use IO::Socket::INET;
use Test::More;
use Time::HiRes qw(sleep);
use Sluice::Test qw(http_get http_parse connect_raw port);

my $t = Sluice::Test->new()->has(qw(http_rewrite));

$t->write_conf(<<'END');
error_log logs/error.log info;
worker_processes 1;
events { worker_connections 16; }
http {
    access_log off;
    server {
        listen 127.0.0.1:%%PORT_8080%%;
        location / { return 200 "ok\n"; }
    }
}
END

$t->plan(6);
$t->run();

sub worker_pids
{
    my $master = $t->pid;
    my @kids;
    for my $stat (glob '/proc/[0-9]*/stat') {
        open(my $f, '<', $stat) or next;
        my $line = <$f> // next;
        my ($kid, $ppid) = $line =~ /^(\d+) \(.*\) \S (\d+)/ or next;
        push @kids, $kid if $ppid == $master;
    }
    return sort @kids;
}

my @before = worker_pids();

# 40 connections that say nothing: more than the 16 slots.
my @idle;
for (1 .. 40) {
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1:' . port(8080), Timeout => 2) or last;
    push @idle, $s;
}
sleep 0.5;

my $r = http_parse(http_get('/'));
is($r->{status}, 200, 'a request past worker_connections is served (idle ones make room)');

# Keep-alive connections that finished a request are idle too.
my @ka;
for (1 .. 20) {
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1:' . port(8080), Timeout => 2) or last;
    print $s "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    my $buf = '';
    sysread($s, $buf, 4096);
    push @ka, $s;
}
$r = http_parse(http_get('/'));
is($r->{status}, 200, 'served again with idle keep-alive connections filling the slots');

like($t->error_log, qr/\[warn\].*worker_connections are not enough, reusing connections/,
     'the shortage is logged at warn');

my @after = worker_pids();
is("@after", "@before", 'the worker was not replaced');
unlike($t->error_log, qr/\[(alert|crit|emerg)\].*(exited on signal|AddressSanitizer)/,
       'no worker crashed');

close $_ for @idle, @ka;
sleep 0.3;
$r = http_parse(http_get('/'));
is($r->{status}, 200, 'served after the crowd left');
