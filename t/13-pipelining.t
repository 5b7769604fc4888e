#!/usr/bin/perl

# t/13-pipelining.t: 10,000 requests pipelined on one connection, written
# in one go, are all answered, in order, and keepalive_requests still caps
# the connection.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use IO::Socket::INET;
use IO::Select;
use Test::More;
use Time::HiRes qw(time);
use Sluice::Test qw(port);

my $t = Sluice::Test->new()->has(qw(http_rewrite));

$t->write_conf(<<'END');
error_log logs/error.log info;
events { }
http {
    access_log off;
    server {
        listen 127.0.0.1:%%PORT_8080%%;
        keepalive_requests 20000;
        location / { return 200 "$uri\n"; }
    }
    server {
        listen 127.0.0.1:%%PORT_8081%%;
        keepalive_requests 100;
        location / { return 200 "$uri\n"; }
    }
}
END

$t->plan(4);
$t->run();

# Writes all requests from a child while this process reads, so neither side
# blocks the other; returns the response bodies in order.
sub pipeline
{
    my ($port, $n) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port", Timeout => 5) or return;
    my $req = join '', map { "GET /$_ HTTP/1.1\r\nHost: x\r\n\r\n" } 1 .. $n;
    my $pid = fork() // die "fork: $!";
    if ($pid == 0) {
        print $s $req;
        exit 0;
    }
    my ($data, $deadline) = ('', time + 30);
    my $sel = IO::Select->new($s);
    while (time < $deadline) {
        last unless $sel->can_read(5);
        my $got = sysread($s, $data, 1 << 16, length $data);
        last unless $got;
        last if $data =~ /\/$n\n\z/;
    }
    kill 'KILL', $pid;
    waitpid($pid, 0);
    return [ $data =~ /\r\n\r\n(\/\d+)\n/g ];
}

my $bodies = pipeline(port(8080), 10000);
is(scalar @$bodies, 10000, '10,000 pipelined requests: 10,000 responses');
is_deeply($bodies, [ map { "/$_" } 1 .. 10000 ], 'answered in order');

$bodies = pipeline(port(8081), 150);
is(scalar @$bodies, 100, 'keepalive_requests 100: the 100th response is the last');
like($t->error_log, qr/^(?!.*(alert|crit|emerg))/s, 'no alert, crit or emerg');
