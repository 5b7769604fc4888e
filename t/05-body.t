#!/usr/bin/perl

# t/05-body.t: request bodies that nobody reads are discarded, whatever
# their framing, so that the connection stays usable and a body is never
# taken for the next request (each body below is itself a request for /2:
# answering it would be request smuggling). Content-Length and chunked
# bodies, a body sent late, Expect: 100-continue, bodies larger than
# client_body_buffer_size, and client_max_body_size on a chunked body.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Sluice::Test qw(http http_parse http_parse_all read_response connect_raw is_closed);

my $t = Sluice::Test->new()->has(qw(http_rewrite));

$t->write_conf(<<'END');
error_log logs/error.log info;
events { }
http {
    server {
        listen 127.0.0.1:%%PORT_8080%%;
        server_name localhost;
        client_body_buffer_size 1k;
        client_max_body_size 200k;
        lingering_timeout 1s;
        location / { return 200 "root\n"; }
        location /1 { return 200 "1\n"; }
        location /2 { return 200 "2\n"; }
        location /small { client_max_body_size 100; return 200 "small\n"; }
    }
}
END

$t->plan(27);
$t->run();

my $H = "Host: localhost\r\n";
my $SMUGGLED = "GET /2 HTTP/1.1\r\n$H\r\n";

# Reads responses until the socket closes or stays quiet; returns their bodies.
sub bodies_after
{
    my ($s, $first) = @_;
    my @b = map { $_->{body} } http_parse_all($first // '');
    while (defined(my $raw = read_response($s, timeout => 1))) {
        push @b, map { $_->{body} } http_parse_all($raw);
    }
    return join '', @b;
}

# --- Content-Length body discarded ------------------------------------------------

my $s = connect_raw();
my $raw = http("POST / HTTP/1.1\r\n${H}Content-Length: " . length($SMUGGLED) . "\r\n\r\n"
               . $SMUGGLED . "GET /1 HTTP/1.1\r\n${H}Connection: close\r\n\r\n", socket => $s);
is(bodies_after($s, $raw), "root\n1\n",
   'Content-Length body discarded: POST then the next request, the body never answered');

# The same with the body arriving after the response to the POST.
$s = connect_raw();
$raw = http("POST / HTTP/1.1\r\n${H}Content-Length: " . length($SMUGGLED) . "\r\n\r\n",
            socket => $s);
my $r = http_parse($raw);
is($r && $r->{body}, "root\n", 'POST answered before its body arrives');
$raw = http($SMUGGLED . "GET /1 HTTP/1.1\r\n${H}Connection: close\r\n\r\n", socket => $s);
is(bodies_after($s, $raw), "1\n", 'late body discarded: only the next request answered');

# Body split over several writes.
$s = connect_raw();
$raw = http(["POST / HTTP/1.1\r\n${H}Content-Length: " . length($SMUGGLED) . "\r\n\r\nGET /2",
             " HTTP/1.1\r\n", "$H\r\nGET /1 HTTP/1.1\r\n${H}Connection: close\r\n\r\n"],
            socket => $s, sleep => 0.2);
is(bodies_after($s, $raw), "root\n1\n", 'body in three writes: discarded');

# Content-Length: 0.
$s = connect_raw();
$raw = http("POST / HTTP/1.1\r\n${H}Content-Length: 0\r\n\r\n"
            . "GET /1 HTTP/1.1\r\n${H}Connection: close\r\n\r\n", socket => $s);
is(bodies_after($s, $raw), "root\n1\n", 'Content-Length 0: next request follows at once');

# --- chunked body discarded -----------------------------------------------------------

my $chunked = sprintf("%x\r\n%s\r\n", length $SMUGGLED, $SMUGGLED)
              . "3;ext=1\r\nabc\r\n0\r\nX-Trailer: t\r\n\r\n";
$s = connect_raw();
$raw = http("POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n$chunked"
            . "GET /1 HTTP/1.1\r\n${H}Connection: close\r\n\r\n", socket => $s);
is(bodies_after($s, $raw), "root\n1\n",
   'chunked body (extension, trailer) discarded, next request answered');

$s = connect_raw();
$raw = http(["POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n",
             substr($chunked, 0, 7), substr($chunked, 7),
             "GET /1 HTTP/1.1\r\n${H}Connection: close\r\n\r\n"], socket => $s, sleep => 0.2);
is(bodies_after($s, $raw), "root\n1\n", 'chunked body split inside a chunk: discarded');

# --- Expect: 100-continue ----------------------------------------------------------------

$s = connect_raw();
$raw = http("POST / HTTP/1.1\r\n${H}Expect: 100-continue\r\nContent-Length: "
            . length($SMUGGLED) . "\r\n\r\n", socket => $s, timeout => 3);
$r = http_parse($raw);
if ($r && $r->{status} == 100) {
    $raw = $r->{rest} ne '' ? $r->{rest} : read_response($s, timeout => 3);
    $r = http_parse($raw);
}
is($r && $r->{status}, 200,
   'Expect: 100-continue on a return location: final 200 without the body');
is($r && $r->{body}, "root\n", 'Expect: 100-continue: body of the final response');
$raw = http($SMUGGLED . "GET /1 HTTP/1.1\r\n${H}Connection: close\r\n\r\n", socket => $s);
my $rest = bodies_after($s, $raw);
unlike($rest, qr/^2$/m, 'Expect: 100-continue: the body sent afterwards is not a request');

$s = connect_raw();
$raw = http("POST / HTTP/1.1\r\n${H}Expect: something-else\r\nContent-Length: 0\r\n\r\n",
            socket => $s, timeout => 3);
$r = http_parse($raw);
ok($r && ($r->{status} == 417 || $r->{status} == 200),
   'unknown Expect: 417 or ignored, never a hang') or diag($raw // 'none');

# --- bodies larger than client_body_buffer_size (1k) -------------------------------------

my $big = 'x' x (100 * 1024);
$s = connect_raw();
$raw = http("POST / HTTP/1.1\r\n${H}Content-Length: " . length($big) . "\r\n\r\n$big"
            . "GET /1 HTTP/1.1\r\n${H}Connection: close\r\n\r\n", socket => $s, timeout => 10);
is(bodies_after($s, $raw), "root\n1\n", '100k Content-Length body (buffer 1k) discarded');

$s = connect_raw();
my $big_chunked = join('', map { sprintf("%x\r\n%s\r\n", 4000, 'y' x 4000) } 1 .. 25)
                  . "0\r\n\r\n";
$raw = http("POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n$big_chunked"
            . "GET /1 HTTP/1.1\r\n${H}Connection: close\r\n\r\n", socket => $s, timeout => 10);
is(bodies_after($s, $raw), "root\n1\n", '100k chunked body in 25 chunks discarded');

$s = connect_raw();
$raw = http("POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n"
            . sprintf("%x\r\n%s\r\n0\r\n\r\n", length $big, $big)
            . "GET /1 HTTP/1.1\r\n${H}Connection: close\r\n\r\n", socket => $s, timeout => 10);
is(bodies_after($s, $raw), "root\n1\n", 'one 100k chunk (larger than the buffer) discarded');

# --- client_max_body_size ------------------------------------------------------------------

$s = connect_raw();
$raw = http("POST /small HTTP/1.1\r\n${H}Content-Length: 100\r\n\r\n" . ('z' x 100), socket => $s);
$r = http_parse($raw);
is($r && $r->{status}, 200, 'body exactly at client_max_body_size (100): accepted');

$s = connect_raw();
$raw = http("POST /small HTTP/1.1\r\n${H}Content-Length: 101\r\n\r\n" . ('z' x 101), socket => $s);
$r = http_parse($raw);
is($r && $r->{status}, 413, 'Content-Length 101 over client_max_body_size 100: 413');
ok(is_closed($s, 3), '413: connection closed');

$s = connect_raw();
$raw = http("POST /small HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n"
            . "64\r\n" . ('z' x 100) . "\r\n10\r\n" . ('z' x 16) . "\r\n0\r\n\r\n", socket => $s);
$r = http_parse($raw);
ok($r && ($r->{status} == 413 || $r->{status} == 200),
   'chunked body over client_max_body_size on a return location: 413 or discarded');
ok($r && $r->{status} == 413 ? is_closed($s, 3) : 1, 'chunked over the limit: closed after 413');

$s = connect_raw();
$raw = http("POST / HTTP/1.1\r\n${H}Content-Length: " . (300 * 1024) . "\r\n\r\n", socket => $s);
$r = http_parse($raw);
is($r && $r->{status}, 413, 'Content-Length 300k over 200k: 413 without waiting for the body');
ok(is_closed($s, 3), 'Content-Length 300k: connection closed');

# --- broken bodies -------------------------------------------------------------------------

$s = connect_raw();
$raw = http("POST / HTTP/1.1\r\n${H}Content-Length: 10\r\n\r\nabc", socket => $s, timeout => 2);
$r = http_parse($raw);
is($r && $r->{status}, 200, 'short body: the response does not wait for the body');
shutdown($s, 1);
ok(is_closed($s, 3), 'short body then client half-close: connection closed');

$s = connect_raw();
$raw = http("POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n",
            socket => $s, timeout => 2);
my @all = http_parse_all($raw // '');
ok(!grep({ $_->{status} == 200 && $_->{body} eq "2\n" } @all), 'chunk without CRLF after data: '
   . 'nothing answered as a request');
ok(is_closed($s, 3), 'chunk without CRLF after data: connection closed');

$r = http_parse(http("GET /1 HTTP/1.1\r\n${H}Connection: close\r\n\r\n"));
is($r && $r->{body}, "1\n", 'server still serves after the broken bodies');
unlike($t->error_log, qr/\[(?:alert|crit|emerg)\]/, 'no alert, crit or emerg logged');
