#!/usr/bin/perl

# t/21-proxy-errors.t: misbehaving upstreams. A refused connect, a reset in
# the middle of a body, a timeout, a garbage status line, two differing
# Content-Lengths, Content-Length with Transfer-Encoding, a NUL in a field,
# a header larger than proxy_buffer_size, a body cut short (with
# Content-Length and chunked, buffered and not), endless interim
# responses, a slow but steady upstream; then retries (proxy_next_upstream
# and its limits, never for POST unless non_idempotent), a kept-alive
# connection the upstream closed before answering, and a client that goes
# away while the upstream works.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use IO::Select;
use IO::Socket::IP;
use POSIX qw(WNOHANG);
use Socket qw(SOL_SOCKET SO_LINGER);
use Test::More;
use Time::HiRes qw(sleep time);
use Sluice::Test qw(http http_get http_parse read_response connect_raw is_closed port);
use Sluice::Backend qw(backend read_body send_all respond);

my $t = Sluice::Test->new()->has(qw(http_proxy http_headers));

# --- the backend ---------------------------------------------------------------


sub log_request
{
    my ($what) = @_;
    open my $fh, '>>', $t->prefix . 'backend.log' or return;
    print {$fh} "$what\n";
    close $fh;
}

sub backend_log { return $t->read_file('backend.log') // ''; }

sub reset_conn
{
    my ($conn) = @_;
    setsockopt($conn->{sock}, SOL_SOCKET, SO_LINGER, pack('ii', 1, 0));
    close $conn->{sock};
    POSIX::_exit(0);
}

# The misbehaving backend: what it does depends on the path.
backend(8081, sub {
    my ($conn, $req) = @_;
    my $uri = $req->{uri};
    my $body = read_body($conn, $req);
    log_request("8081 $req->{method} $uri");

    if ($uri =~ m{^/reset}) {
        send_all($conn, "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" . ('r' x 1000));
        sleep 0.2;
        reset_conn($conn);
    }
    if ($uri =~ m{^/slow-header}) {
        sleep 3;
        return respond($conn, $req, '200 OK', [], "late\n");
    }
    if ($uri =~ m{^/garbage}) {
        send_all($conn, "FOO BAR BAZ\r\n\r\n");
        return 0;
    }
    if ($uri =~ m{^/two-cl}) {
        send_all($conn, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd");
        return 0;
    }
    if ($uri =~ m{^/same-cl}) {
        send_all($conn, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc");
        return 0;
    }
    if ($uri =~ m{^/cl-te}) {
        send_all($conn, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
                 . "3\r\nabc\r\n0\r\n\r\n");
        return 0;
    }
    if ($uri =~ m{^/nul}) {
        send_all($conn, "HTTP/1.1 200 OK\r\nX-Bad: a\0b\r\nContent-Length: 2\r\n\r\nok");
        return 0;
    }
    if ($uri =~ m{^/big-header}) {
        send_all($conn, "HTTP/1.1 200 OK\r\nX-Big: " . ('h' x 3000) . "\r\nContent-Length: 2\r\n\r\nok");
        return 0;
    }
    if ($uri =~ m{^/cut-length}) {
        send_all($conn, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" . ('c' x 100));
        sleep 0.2;
        return 0;
    }
    if ($uri =~ m{^/cut-chunked}) {
        send_all($conn, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
        sleep 0.2;
        return 0;
    }
    if ($uri =~ m{^/bad-chunked}) {
        send_all($conn, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX\r\n");
        sleep 0.2;
        return 0;
    }
    if ($uri =~ m{^/interim-flood}) {
        send_all($conn, "HTTP/1.1 100 Continue\r\n\r\n" x 20);
        return respond($conn, $req, '200 OK', [], "never\n");
    }
    if ($uri =~ m{^/trickle}) {
        send_all($conn, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n");
        for (1 .. 10) { sleep 0.3; send_all($conn, 't'); }
        return 0;
    }
    if ($uri =~ m{^/status/(\d+)}) {
        return respond($conn, $req, "$1 Status", [], "8081 says $1\n");
    }
    if ($uri =~ m{^/drop}) {
        # took the request, answers nothing
        return 0;
    }
    return respond($conn, $req, '200 OK', [], "8081 ok\n");
});

# The healthy second server.
backend(8082, sub {
    my ($conn, $req) = @_;
    my $body = read_body($conn, $req);
    log_request("8082 $req->{method} $req->{uri}");
    return respond($conn, $req, '200 OK', [], "8082 ok\n");
});

# A server that keeps connections alive but closes one when its second request arrives.
backend(8083, sub {
    my ($conn, $req) = @_;
    my $body = read_body($conn, $req);
    $conn->{n}++;
    log_request("8083 $req->{method} $req->{uri} #$conn->{n}");
    return 0 if $conn->{n} > 1;
    respond($conn, $req, '200 OK', [], "8083 ok\n");
    return 1;
});

my $dead = port(8089);

$t->write_conf(<<'END');
error_log logs/error.log info;
worker_processes 1;
events { }
http {
    log_format up '$uri $status $upstream_addr|$upstream_status';
    access_log logs/access.log up;

    upstream refused {
        server 127.0.0.1:%%PORT_8089%%;
    }

    upstream pair {
        server 127.0.0.1:%%PORT_8081%% max_fails=0;
        server 127.0.0.1:%%PORT_8082%% max_fails=0;
    }

    upstream pair_post {
        server 127.0.0.1:%%PORT_8081%% max_fails=0;
        server 127.0.0.1:%%PORT_8082%% max_fails=0;
    }

    upstream pair_idem {
        server 127.0.0.1:%%PORT_8081%% max_fails=0;
        server 127.0.0.1:%%PORT_8082%% max_fails=0;
    }

    upstream pair_get {
        server 127.0.0.1:%%PORT_8081%% max_fails=0;
        server 127.0.0.1:%%PORT_8082%% max_fails=0;
    }

    upstream pair_off {
        server 127.0.0.1:%%PORT_8081%% max_fails=0;
        server 127.0.0.1:%%PORT_8082%% max_fails=0;
    }

    upstream pair_tries {
        server 127.0.0.1:%%PORT_8081%% max_fails=0;
        server 127.0.0.1:%%PORT_8082%% max_fails=0;
    }

    upstream deadfirst {
        server 127.0.0.1:%%PORT_8089%%;
        server 127.0.0.1:%%PORT_8082%%;
    }

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        server_name localhost;

        proxy_read_timeout 1s;
        proxy_buffer_size 1k;

        location / {
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
        }

        location /unbuffered/ {
            proxy_buffering off;
            proxy_http_version 1.1;
            proxy_pass http://127.0.0.1:%%PORT_8081%%/;
        }

        location /refused {
            proxy_pass http://refused;
        }

        location /deadfirst {
            proxy_pass http://deadfirst;
            add_header X-Up "$upstream_addr|$upstream_status";
        }

        location /pair/ {
            proxy_pass http://pair/;
            proxy_next_upstream error timeout http_500;
            add_header X-Up "$upstream_status";
        }

        location /pair-post/ {
            proxy_pass http://pair_post/;
        }

        location /pair-get/ {
            proxy_pass http://pair_get/;
        }

        location /pair-idem/ {
            proxy_pass http://pair_idem/;
            proxy_next_upstream error timeout non_idempotent;
        }

        location /pair-off/ {
            proxy_pass http://pair_off/;
            proxy_next_upstream off;
        }

        location /pair-tries/ {
            proxy_pass http://pair_tries/;
            proxy_next_upstream error timeout http_500;
            proxy_next_upstream_tries 1;
        }

        location /trickle {
            proxy_read_timeout 2s;
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
        }

        location /abort/ {
            proxy_read_timeout 5s;
            proxy_pass http://127.0.0.1:%%PORT_8081%%/;
        }
    }
}
END

$t->plan(39);
$t->run();

my $H = "Host: localhost\r\n";

sub get { return http_parse(http_get($_[0])); }

# --- failures answered with 502 / 504 --------------------------------------------------

my $r = get('/refused');
is($r->{status}, 502, 'connection refused: 502');
like($t->error_log, qr/connect\(\) failed \(111: Connection refused\) while connecting to upstream/,
     'refusal logged');
my $refused_port = $t->port(8089);
my $context = 'while connecting to upstream, client: 127.0.0.1, server: localhost, '
    . qq{request: "GET /refused HTTP/1.1", upstream: "http://127.0.0.1:$refused_port/refused", }
    . 'host: "localhost"';
like($t->error_log, qr/\Q$context\E/, 'the error line names the upstream, as nginx does');

my $t0 = time();
$r = get('/slow-header');
is($r->{status}, 504, 'no header within proxy_read_timeout: 504');
ok(time() - $t0 < 2.8, 'the timeout did not wait for the upstream');
like($t->error_log, qr/upstream timed out/, 'timeout logged');

$r = get('/garbage');
is($r->{status}, 502, 'garbage status line: 502');
like($t->error_log, qr/upstream sent no valid HTTP\/1\.0 header/, 'garbage logged');

$r = get('/two-cl');
is($r->{status}, 502, 'two differing Content-Lengths: 502');
$r = get('/same-cl');
is($r->{status} . ' ' . $r->{body}, '200 abc', 'two equal Content-Lengths: fine');
$r = get('/cl-te');
is($r->{status}, 502, 'Content-Length with Transfer-Encoding: 502');
$r = get('/nul');
is($r->{status}, 502, 'NUL in a field: 502');
$r = get('/big-header');
is($r->{status}, 502, 'header past proxy_buffer_size: 502');
like($t->error_log, qr/upstream sent too big header/, 'too big header logged');
$r = get('/interim-flood');
is($r->{status}, 502, 'endless interim responses: 502');

# --- bodies cut short: never presented as complete ----------------------------------------

for my $p ('/cut-length', '/unbuffered/cut-length') {
    my $raw = http_get($p);
    $r = http_parse($raw);
    is($r->{status}, 200, "$p: the header had gone out");
    ok($r->{incomplete} && length($r->{body}) < 1000, "$p: fewer bytes than Content-Length, then a close");
}

for my $p ('/cut-chunked', '/unbuffered/cut-chunked', '/bad-chunked') {
    my $raw = http_get($p);
    $r = http_parse($raw);
    ok((!$r || $r->{incomplete}) && $raw !~ /\r\n0\r\n\r\n$/, "$p: no final chunk after a cut");
}

my $raw = http_get('/reset');
$r = http_parse($raw);
ok($r->{incomplete}, 'reset mid-response: the client sees a short body and a close');

$t0 = time();
$r = get('/trickle');
is($r->{body}, 'tttttttttt', 'a slow but steady upstream within proxy_read_timeout');

# --- retries -----------------------------------------------------------------------------

$r = get('/deadfirst');
is($r->{body}, "8082 ok\n", 'refused peer: the next one answers');
like($r->{headers}{'x-up'}, qr/^127\.0\.0\.1:\d+, 127\.0\.0\.1:\d+\|502, 200$/,
     '$upstream_addr and $upstream_status list both attempts');

unlink $t->prefix . 'backend.log';
my %seen;
for (1 .. 4) {
    $r = get('/pair/status/500');
    $seen{$r->{body}}++;
}
is($seen{"8082 ok\n"}, 4, 'http_500: every 500 retried on the other peer');

# round robin sends each group's first request to 8081, the failing one
$r = http_parse(http("POST /pair-post/drop HTTP/1.1\r\n${H}Connection: close\r\nContent-Length: 1\r\n\r\nx"));
is($r->{status}, 502, 'POST that reached a failing peer: not retried');

$r = http_parse(http("POST /pair-idem/drop HTTP/1.1\r\n${H}Connection: close\r\nContent-Length: 1\r\n\r\nx"));
is($r->{body}, "8082 ok\n", 'non_idempotent: POST retried');

$r = get('/pair-get/drop');
is($r->{body}, "8082 ok\n", 'GET that met a failing peer: retried');

is(get('/pair-off/drop')->{status}, 502, 'proxy_next_upstream off: no retry');

is(get('/pair-tries/status/500')->{status}, 500, 'proxy_next_upstream_tries 1: the 500 is passed');

# --- a client that goes away ----------------------------------------------------------------

my $s = connect_raw();
print {$s} "GET /abort/slow-header HTTP/1.1\r\n$H\r\n";
sleep 0.3;
close $s;
sleep 0.5;
like($t->error_log, qr/client prematurely closed connection/, 'client abort noticed at once');
sleep 3;
like($t->access_log // '', qr{^/abort/slow-header 499 }m, 'logged as 499');

# --- a kept-alive connection the upstream closed ------------------------------------------

SKIP: {
    my $k = Sluice::Test->new();
    $k->write_conf(<<'END');
events { }
http {
    upstream ka { server 127.0.0.1:%%PORT_8083%%; keepalive 4; }
    server {
        listen 127.0.0.1:%%PORT_8090%%;
        location / {
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_pass http://ka;
        }
        location /off/ {
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_next_upstream off;
            proxy_pass http://ka/;
        }
    }
}
END
    my ($code, $out) = $k->test_config();
    skip "keepalive not available: $out", 5 if $code;
    $k->run();

    unlink $t->prefix . 'backend.log';
    my $a = http_parse(http_get('/one', port => 8090));
    is($a->{body}, "8083 ok\n", 'pooled: first request');
    my $b = http_parse(http_get('/two', port => 8090));
    is($b->{body}, "8083 ok\n", 'pooled connection closed before answering: retried on a fresh one');
    my $c = http_parse(http_get('/off/three', port => 8090));
    is($c->{body}, "8083 ok\n", 'the same even with proxy_next_upstream off');
    my $log = backend_log();
    like($log, qr{/two #2\n.*/two #1}s, 'the retry went to a new connection');
    my $d = http_parse(http("POST /four HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx",
                            port => 8090));
    is($d->{status}, 502, 'but a POST is not sent twice');
    $k->stop();
}
