#!/usr/bin/perl

# t/04-keepalive.t: persistent connections. Several requests on one
# connection, pipelining in one write, keepalive_requests, keepalive_timeout,
# HTTP/1.0 with and without keep-alive, "Connection: close", and
# client_header_timeout on a half-sent request. Timing assertions are lower
# and upper bounds of a few seconds, never performance measures.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Time::HiRes qw(time);
use Sluice::Test qw(http http_parse http_parse_all read_response connect_raw is_closed);

my $t = Sluice::Test->new();
my $rw = $t->has_module('http_rewrite');

# Locations answer their own name when return is available.
sub ret { return $rw ? "return 200 \"$_[0]\\n\";" : ''; }
my $locs = join "\n", map { "        location /$_ { " . ret($_) . " }" } qw(1 2 3);

$t->write_conf(<<"END");
error_log logs/error.log info;
events { }
http {
    server {
        listen 127.0.0.1:%%PORT_8080%%;
        server_name localhost;
        client_header_timeout 1s;
        location / { @{[ ret('root') ]} }
$locs
    }
    server {
        listen 127.0.0.1:%%PORT_8081%%;
        keepalive_requests 2;
        location / { @{[ ret('root') ]} }
    }
    server {
        listen 127.0.0.1:%%PORT_8082%%;
        keepalive_timeout 1s;
        location / { @{[ ret('root') ]} }
    }
}
END

$t->plan(36);
$t->run();

my $H = "Host: localhost\r\n";

sub conn_header
{
    my ($r) = @_;
    return '' unless $r;
    my $v = $r->{headers}{connection} // '';
    return lc(ref $v ? $v->[-1] : $v);
}

# --- several requests on one connection --------------------------------------------

my $s = connect_raw();
my $r1 = http_parse(http("GET /1 HTTP/1.1\r\n$H\r\n", socket => $s));
my $r2 = http_parse(http("GET /2 HTTP/1.1\r\n$H\r\n", socket => $s));
ok($r1 && !$r1->{incomplete}, 'first request on the connection: complete response');
ok($r2 && !$r2->{incomplete}, 'second request on the same connection: complete response');
isnt(conn_header($r1), 'close', 'HTTP/1.1 response: no "Connection: close"');
SKIP: {
    skip 'no rewrite module', 2 unless $rw;
    is($r1 && $r1->{body}, "1\n", 'first response: its body');
    is($r2 && $r2->{body}, "2\n", 'second response: its body');
}
ok(!is_closed($s, 0.5), 'connection still open after two requests');
close $s;

# --- pipelining: three requests in one write ---------------------------------------

$s = connect_raw();
my $raw = http("GET /1 HTTP/1.1\r\n$H\r\nGET /2 HTTP/1.1\r\n$H\r\n"
               . "GET /3 HTTP/1.1\r\n${H}Connection: close\r\n\r\n", socket => $s);
$raw .= read_response($s) // '';
$raw .= read_response($s) // '';
my @all = http_parse_all($raw);
is(scalar @all, 3, 'pipelining: three responses');
SKIP: {
    skip 'no rewrite module', 1 unless $rw;
    is(join('', map { $_->{body} } @all), "1\n2\n3\n", 'pipelining: responses in request order');
}
is(conn_header($all[2]), 'close', 'pipelining: last response has "Connection: close"');
ok(is_closed($s, 3), 'pipelining: connection closed after the last response');

# Pipelined requests split at an awkward place: the second starts in the same
# packet as the end of the first.
$s = connect_raw();
$raw = http(["GET /1 HTTP/1.1\r\n$H\r\nGET /2 HT", "TP/1.1\r\n$H\r\n"], socket => $s,
            sleep => 0.2);
$raw .= read_response($s) // '';
@all = http_parse_all($raw);
is(scalar @all, 2, 'pipelining across two writes: two responses');
close $s;

# --- keepalive_requests 2 ----------------------------------------------------------

$s = connect_raw(port => 8081);
$r1 = http_parse(http("GET / HTTP/1.1\r\n$H\r\n", socket => $s));
isnt(conn_header($r1), 'close', 'keepalive_requests 2: first response keeps the connection');
ok(!is_closed($s, 0.3), 'keepalive_requests 2: open after the first response');
$r2 = http_parse(http("GET / HTTP/1.1\r\n$H\r\n", socket => $s));
ok($r2 && !$r2->{incomplete}, 'keepalive_requests 2: second response complete');
is(conn_header($r2), 'close', 'keepalive_requests 2: second response has "Connection: close"');
ok(is_closed($s, 3), 'keepalive_requests 2: socket closed after the second response');

# --- keepalive_timeout ----------------------------------------------------------------

$s = connect_raw(port => 8082);
$r1 = http_parse(http("GET / HTTP/1.1\r\n$H\r\n", socket => $s));
ok($r1 && !$r1->{incomplete}, 'keepalive_timeout 1s: response');
my $start = time();
ok(is_closed($s, 3), 'keepalive_timeout 1s: idle connection closed within 3 s');
my $took = time() - $start;
cmp_ok($took, '>', 0.7, 'keepalive_timeout 1s: not closed before the timeout');

# The default timeout (75 s) keeps the connection over the same idle time.
$s = connect_raw();
$r1 = http_parse(http("GET / HTTP/1.1\r\n$H\r\n", socket => $s));
ok(!is_closed($s, 1.5), 'default keepalive_timeout: still open after 1.5 s idle');
$r2 = http_parse(http("GET / HTTP/1.1\r\n$H\r\n", socket => $s));
ok($r2 && !$r2->{incomplete}, 'default keepalive_timeout: request after the idle time served');
close $s;

# --- HTTP/1.0 and Connection: close ----------------------------------------------------

$s = connect_raw();
$raw = http("GET / HTTP/1.0\r\n$H\r\n", socket => $s);
$r1 = http_parse($raw);
ok($r1 && $r1->{status}, 'HTTP/1.0 without keep-alive: response');
unlike($raw // '', qr/^Transfer-Encoding:/mi, 'HTTP/1.0: response not chunked');
ok(is_closed($s, 3), 'HTTP/1.0 without keep-alive: connection closed');

$s = connect_raw();
$r1 = http_parse(http("GET / HTTP/1.0\r\n${H}Connection: keep-alive\r\n\r\n", socket => $s));
is(conn_header($r1), 'keep-alive', 'HTTP/1.0 with keep-alive: "Connection: keep-alive"');
ok(!is_closed($s, 0.5), 'HTTP/1.0 with keep-alive: connection kept');
$r2 = http_parse(http("GET / HTTP/1.0\r\n$H\r\n", socket => $s));
ok($r2 && !$r2->{incomplete}, 'HTTP/1.0 with keep-alive: second request served');
ok(is_closed($s, 3), 'HTTP/1.0: closed after the request without keep-alive');

$s = connect_raw();
$r1 = http_parse(http("GET / HTTP/1.1\r\n${H}Connection: close\r\n\r\n", socket => $s));
is(conn_header($r1), 'close', 'Connection: close: echoed in the response');
ok(is_closed($s, 3), 'Connection: close: connection closed');

# --- client_header_timeout ---------------------------------------------------------------

my $before = length $t->error_log;
$s = connect_raw();
syswrite($s, "GET /ind");
$start = time();
ok(is_closed($s, 3), 'client_header_timeout 1s: half a request line, connection closed');
cmp_ok(time() - $start, '>', 0.7, 'client_header_timeout 1s: not before the timeout');
like(substr($t->error_log, $before), qr/\[info\].*timed out/,
     'client_header_timeout: "timed out" logged at info');

$s = connect_raw();
syswrite($s, "GET / HTTP/1.1\r\n$H");
ok(is_closed($s, 3), 'client_header_timeout 1s: headers without the end, connection closed');

$s = connect_raw();
ok(is_closed($s, 3), 'client_header_timeout 1s: connection that sends nothing closed');

unlike($t->error_log, qr/\[(?:alert|crit|emerg)\]|AddressSanitizer/,
       'no worker crash, alert, crit or emerg in the error log');
