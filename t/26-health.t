#!/usr/bin/perl

# t/26-health.t: active health checks (health_check, match). Backends are
# small Perl servers started here: one answers its health URI as a file
# under the prefix tells it (ok, 500, nomatch: 200 without the body the
# match wants, hang: accept and never answer) and always answers "/" with
# its name; a port with no listener refuses. The checks run in a helper
# process of the master from start-up, before any request; a peer failing
# `fails` checks is skipped by every worker and comes back after `passes`
# good ones; transitions are logged at warn; with every peer down a
# request gets 502. The helper is a child of the master and is respawned
# when killed. A health_check without a zone is refused with file:line.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use IO::Socket::IP;
use POSIX ();
use Test::More;
use Time::HiRes qw(sleep time);
use Sluice::Test qw(http_get http_parse port);
use Sluice::Backend ();

my $t = Sluice::Test->new()->has(qw(http_upstream_zone http_upstream_health));
my $proxy = $t->has_module('http_proxy');

$t->plan(30);

my $prefix = $t->prefix;

# --- backends ---------------------------------------------------------------------------

my %backends; # placeholder number => pid

sub set_mode
{
    my ($n, $mode) = @_;
    $t->write_file("mode_$n", $mode);
}

sub hits
{
    my ($n) = @_;
    my $s = $t->read_file("hits_$n") // '';
    return length $s;
}

# Forks a backend listening on port(N). GET /health answers per mode_N;
# anything else answers 200 "backend N" and appends a byte to hits_N.
sub backend
{
    my ($n) = @_;
    return $backends{$n} = Sluice::Backend::backend($n, serial => sub {
        my ($c) = @_;
        my $head = '';
        my $deadline = time() + 5;
        while ($head !~ /\r?\n\r?\n/ && time() < $deadline) {
            my $buf;
            my $r = sysread($c, $buf, 4096);
            last unless $r;
            $head .= $buf;
        }
        my ($uri) = $head =~ /^GET (\S+)/;
        $uri //= '';
        if ($uri eq '/health') {
            open my $fh, '<', "${prefix}mode_$n";
            my $mode = $fh ? <$fh> // 'ok' : 'ok';
            close $fh if $fh;
            if ($head =~ /^Host: (.*?)\r?$/mi) {
                if (open my $hf, '>', "${prefix}host_$n") { print $hf $1; close $hf; }
            }
            return 1 if $mode eq 'hang';   # held open, unanswered
            if ($mode eq 'chunked') {
                print $c "HTTP/1.1 200 OK\r\nX-Backend: $n\r\nTransfer-Encoding: chunked\r\n"
                    . "Connection: close\r\n\r\n2\r\nre\r\n3;ext=1\r\nady\r\n0\r\n\r\n";
                return 0;
            }
            my ($status, $body) = $mode eq '500' ? ('500 Internal Server Error', 'ready')
                                : $mode eq 'nomatch' ? ('200 OK', 'starting')
                                : ('200 OK', 'ready');
            print $c "HTTP/1.1 $status\r\nX-Backend: $n\r\nContent-Length: "
                . length($body) . "\r\nConnection: close\r\n\r\n$body";
        } else {
            if (open my $hf, '>>', "${prefix}hits_$n") { print $hf 'x'; close $hf; }
            my $body = "backend $n";
            print $c "HTTP/1.1 200 OK\r\nContent-Length: " . length($body)
                . "\r\nConnection: close\r\n\r\n$body";
        }
        return 0;
    });
}

sub stop_backends
{
    Sluice::Backend::stop_backend($_) for values %backends;
    %backends = ();
}

# --- helpers ----------------------------------------------------------------------------

# Waits (bounded) until the error log matches re; returns whether it did.
sub wait_log
{
    my ($re, $timeout) = @_;
    my $deadline = time() + ($timeout // 10);
    while (time() < $deadline) {
        return 1 if $t->error_log =~ $re;
        sleep 0.1;
    }
    return 0;
}

sub children
{
    my ($pid) = @_;
    my @c;
    opendir my $d, '/proc' or return ();
    for my $p (grep { /^\d+$/ } readdir $d) {
        open my $fh, '<', "/proc/$p/stat" or next;
        my $stat = <$fh> // '';
        close $fh;
        my ($state, $ppid) = $stat =~ /\)\s+(\S)\s+(\d+)/ or next;
        push @c, $p + 0 if $ppid == $pid && $state ne 'Z';
    }
    closedir $d;
    return @c;
}

# The pid of the newest health check process the master started.
sub helper_pid
{
    my @pids = $t->error_log =~ /start health check process (\d+)/g;
    return $pids[-1];
}

sub count_ok
{
    my ($uri, $n) = @_;
    my %bodies;
    for (1 .. $n) {
        my $r = http_parse(http_get($uri));
        $bodies{$r && $r->{status} == 200 ? $r->{body} : 'error'}++;
    }
    return \%bodies;
}

# --- configuration errors ---------------------------------------------------------------

$t->write_conf(<<'END');
events { }
http {
    upstream backend {
        server 127.0.0.1:%%PORT_8081%%;
        health_check;
    }
    server {
        listen 127.0.0.1:%%PORT_8080%%;
    }
}
END
my ($code, $out) = $t->test_config();
isnt($code, 0, 'health_check without a zone: refused');
like($out, qr/health_check requires a "zone" in upstream "backend" in \S*sluice\.conf:5/,
     'the error names the upstream and the health_check line');

$t->write_conf(<<'END');
events { }
http {
    upstream backend {
        zone backend 64k;
        server 127.0.0.1:%%PORT_8081%%;
        health_check match=nosuch;
    }
    server {
        listen 127.0.0.1:%%PORT_8080%%;
    }
}
END
($code, $out) = $t->test_config();
like($out, qr/match "nosuch" not found for upstream "backend" in \S*sluice\.conf:6/,
     'an unknown match is refused with file:line');

$t->write_conf(<<'END');
events { }
http {
    upstream backend {
        zone backend 64k;
        server 127.0.0.1:%%PORT_8081%%;
        health_check fails=0;
    }
    server {
        listen 127.0.0.1:%%PORT_8080%%;
    }
}
END
($code, $out) = $t->test_config();
like($out, qr/invalid parameter "fails=0" in \S*sluice\.conf:6/, 'fails=0 refused');

$t->write_conf(<<'END');
events { }
http {
    match m { status 200 !; }
    upstream backend {
        zone backend 64k;
        server 127.0.0.1:%%PORT_8081%%;
        health_check match=m;
    }
    server {
        listen 127.0.0.1:%%PORT_8080%%;
    }
}
END
($code, $out) = $t->test_config();
like($out, qr/invalid status "!" in \S*sluice\.conf:3/, 'a bad status in a match refused');

# --- checks from start-up ---------------------------------------------------------------

# 8081: healthy. 8082: fails its checks (500) at first. 8083: nothing listens.
# 8084: hangs on its health URI. 8085: answers 200 without the body the match wants.
# 8086: the only peer of "dead", failing (500). 8087: a chunked "ready".
set_mode(8081, 'ok');
set_mode(8082, '500');
set_mode(8084, 'hang');
set_mode(8085, 'nomatch');
set_mode(8086, '500');
set_mode(8087, 'chunked');
backend($_) for 8081, 8082, 8084, 8085, 8086, 8087;
port(8083);

my $pass = $proxy ? 'proxy_pass http://backend;' : 'return 200;';
my $pass_dead = $proxy ? 'proxy_pass http://dead;' : 'return 200;';

$t->write_conf(<<"END");
error_log logs/error.log info;
worker_processes 2;
events { }
http {
    match not5xx {
        status ! 500-599;
    }
    match notready {
        header X-Backend = 8087;
        header ! X-Missing;
        body !~ "^ready\$";
    }
    match wrongheader {
        header X-Backend = 9999;
    }
    match ready {
        status 200-399;
        header X-Backend;
        body ~ "^ready\$";
    }
    upstream backend {
        zone backend 64k;
        server 127.0.0.1:%%PORT_8081%%;
        server 127.0.0.1:%%PORT_8082%%;
        health_check interval=200ms timeout=500ms fails=2 passes=2 uri=/health match=ready;
    }
    upstream refused {
        zone refused 64k;
        server 127.0.0.1:%%PORT_8083%%;
        health_check interval=200ms uri=/health;
    }
    upstream hung {
        zone hung 64k;
        server 127.0.0.1:%%PORT_8084%%;
        health_check interval=200ms timeout=300ms uri=/health;
    }
    upstream nomatch {
        zone nomatch 64k;
        server 127.0.0.1:%%PORT_8085%%;
        health_check interval=200ms uri=/health match=ready;
    }
    upstream dead {
        zone dead 64k;
        server 127.0.0.1:%%PORT_8086%%;
        health_check interval=200ms uri=/health match=not5xx;
    }
    upstream chunked {
        zone chunked 64k;
        server 127.0.0.1:%%PORT_8087%%;
        health_check interval=200ms uri=/health match=notready;
    }
    upstream wrongheader {
        zone wrongheader 64k;
        server 127.0.0.1:%%PORT_8081%%;
        health_check interval=200ms uri=/health match=wrongheader;
    }
    server {
        listen 127.0.0.1:%%PORT_8080%%;
        location / { $pass }
        location /dead { $pass_dead }
    }
}
END
$t->run();

my ($p1, $p2, $p3, $p4, $p5, $p6, $p7) = map { port($_) } 8081 .. 8087;

# The warn line of a peer going down for a reason (literal text).
sub down_re
{
    my ($port, $upstream, $reason) = @_;
    my $line = "peer 127.0.0.1:$port in upstream \"$upstream\" is down (health check: $reason)";
    return qr/\[warn\] .*\Q$line\E/;
}

ok(wait_log(down_re($p2, 'backend', 'status 500 does not match "ready"')),
   'a peer answering 500 is marked down, logged at warn, before any request');
ok(wait_log(down_re($p3, 'refused', 'connect() failed (111: Connection refused)')),
   'a refusing peer is marked down with the connect() error');
ok(wait_log(down_re($p4, 'hung', 'timed out')),
   'a peer that never answers is marked down on the timeout');
ok(wait_log(down_re($p5, 'nomatch', 'body does not match "ready"')),
   'a peer without the body the match wants is marked down');
ok(wait_log(down_re($p6, 'dead', 'status 500 does not match "not5xx"')),
   'a negated status range fails a 500');
ok(wait_log(down_re($p7, 'chunked', 'body does not match "notready"')),
   'a chunked body is decoded before the match (and header conditions hold)');
ok(wait_log(down_re($p1, 'wrongheader', 'header "X-Backend" does not match "wrongheader"')),
   'a header value condition fails on another value');
unlike($t->error_log, qr/peer 127\.0\.0\.1:$p1 in upstream "backend" is down/,
       'the healthy peer is never marked down');
my $fails2 = () = $t->error_log
    =~ /health check of peer 127\.0\.0\.1:$p2 in upstream "backend" failed/g;
cmp_ok($fails2, '>=', 2, 'fails=2: two failed checks before the transition');
is($t->read_file('host_8081'), "127.0.0.1:$p1", 'the check sends the server name as Host');

# --- the helper process -----------------------------------------------------------------

my $master = $t->pid;
my $helper = helper_pid();
ok($helper && grep({ $_ == $helper } children($master)),
   'the health check process is a child of the master');
my @c = children($master);
is(scalar @c, 3, 'two workers and the health check process');

kill 'KILL', $helper if $helper;
my $new;
my $deadline = time() + 5;
while (time() < $deadline) {
    $new = helper_pid();
    last if $new && $new != $helper && grep { $_ == $new } children($master);
    sleep 0.05;
}
ok($new && $new != $helper, 'a killed health check process is respawned');
ok(wait_log(qr/\[info\] $new#\d+: health check of peer/),
   'the respawned process goes on checking');

# --- traffic ----------------------------------------------------------------------------

SKIP: {
    skip 'no proxy module', 6 unless $proxy;

    my $before = hits(8082);
    my $b = count_ok('/', 20);
    is($b->{"backend 8081"}, 20, '20 requests with a peer down: all served by the healthy one');
    is(hits(8082) - $before, 0, 'no worker sent a request to the peer marked down');

    set_mode(8082, 'ok');
    ok(wait_log(qr/\[warn\] .*peer 127\.0\.0\.1:$p2 in upstream "backend" is up/),
       'the peer passing its checks again is logged up at warn');
    $b = count_ok('/', 20);
    cmp_ok($b->{"backend 8082"} // 0, '>', 0, 'traffic returns to it');
    is(($b->{"backend 8081"} // 0) + ($b->{"backend 8082"} // 0), 20, 'all 20 served');

    my $r = http_parse(http_get('/dead'));
    is($r && $r->{status}, 502, 'every peer down: 502');
}

# --- a refusing peer comes back ---------------------------------------------------------

set_mode(8083, 'ok');
backend(8083);
ok(wait_log(qr/peer 127\.0\.0\.1:$p3 in upstream "refused" is up/),
   'a peer that starts listening is taken back');

# --- reload: the new cycle's checker replaces the old one -------------------------------

my $old = helper_pid();
$t->signal('HUP');
my $replaced;
$deadline = time() + 10;
while (time() < $deadline) {
    my $cur = helper_pid();
    if ($cur && $cur != $old && !grep({ $_ == $old } children($master))) {
        $replaced = $cur;
        last;
    }
    sleep 0.1;
}
ok($replaced, 'reload: a new health check process, the old one gone');
ok(wait_log(qr/health check process $old exited with code 0/), 'the old one exited cleanly');

$t->stop();
ok(!grep({ $_ == ($replaced // 0) } children($master)), 'QUIT stops the health check process');
my @alerts = grep { /\[(?:alert|crit|emerg)\]/ && !/process $helper exited on signal 9/ }
    split /\n/, $t->error_log;
is(scalar @alerts, 0, 'no alerts in the error log but the kill') or diag(join "\n", @alerts);

stop_backends();
