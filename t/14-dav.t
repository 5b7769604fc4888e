#!/usr/bin/perl

# t/14-dav.t: the dav module (PUT, DELETE, MKCOL) and, through PUT, the
# request body reader end to end: Content-Length and chunked bodies (with a
# chunk extension and a trailer), in memory and spooled past
# client_body_buffer_size, Expect: 100-continue, client_max_body_size on
# both framings, a slow body, client_body_timeout, create_full_put_path,
# dav_access, min_delete_depth, recursive DELETE that never follows a
# symbolic link, and the configuration errors (COPY/MOVE refused).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use File::Find qw(find);
use File::Path qw(make_path);
use IO::Select;
use Test::More;
use Time::HiRes qw(time);
use Sluice::Test qw(http_get http http_parse read_response connect_raw is_closed);

my $t = Sluice::Test->new()->has(qw(http_dav http_static));
my $p = $t->prefix;
my $html = "${p}html";

$t->write_conf(<<"END");
user root root;
error_log logs/error.log info;
events { }
http {
    default_type application/octet-stream;
    server {
        listen 127.0.0.1:%%PORT_8080%%;
        server_name localhost;
        root $html;
        client_body_buffer_size 8k;
        client_max_body_size 4m;
        client_body_timeout 1s;
        lingering_timeout 1s;
        dav_methods PUT DELETE MKCOL;
        dav_access user:rw group:r all:r;

        location / { }
        location /small/ { client_max_body_size 1k; }
        location /full/ { create_full_put_path on; }
        location /deep/ { min_delete_depth 3; }
        location /ro/ { dav_methods off; }
        location /inner/ { dav_methods DELETE; }
        location /al/ { alias ${html}/aliased/; create_full_put_path on; }
    }
}
END

make_path("$html/aliased", "$html/small", "$html/deep/a", "$html/ro", "$html/inner", "${p}outside");
$t->write_file('html/ro/file', "read only\n");
$t->write_file('html/inner/file', "inner\n");

$t->plan(101);
$t->run();

my $H = "Host: localhost\r\n";

# One request with Connection: close; returns the parsed response (undef on none).
sub request
{
    my ($method, $uri, $body, %opts) = @_;
    my $headers = join '', map { "$_\r\n" } @{$opts{headers} // []};
    my $len = defined $body && !$opts{no_length} ? "Content-Length: " . length($body) . "\r\n" : '';
    my $raw = http("$method $uri HTTP/1.1\r\n${H}Connection: close\r\n$len$headers\r\n"
                   . ($body // ''), timeout => $opts{timeout} // 10);
    return http_parse($raw);
}

sub status
{
    my ($r) = @_;
    return $r ? $r->{status} : 'no response';
}

sub get_body
{
    my ($uri) = @_;
    my $r = http_parse(http_get($uri, timeout => 10));
    return $r && $r->{status} == 200 ? $r->{body} : undef;
}

# Every byte value, CR LF and NUL included.
my $bytes = join '', map { chr } 0 .. 255;

# --- PUT: in memory, replace, spooled -------------------------------------------------

my $small = "hello\r\n\0dav " . $bytes;
my $r = request('PUT', '/a.bin', $small);
is(status($r), 201, 'PUT new file: 201 Created');
like($r && $r->{headers}{location} // '', qr{/a\.bin$}, '201: Location names the URI');
is($r && $r->{headers}{'content-length'}, '0', '201: empty body');
is(get_body('/a.bin'), $small, 'GET returns what was PUT (in-memory body)');
is((stat "$html/a.bin")[2] & 07777, 0644, 'dav_access user:rw group:r all:r: mode 0644');

$r = request('PUT', '/a.bin', "second\n");
is(status($r), 204, 'PUT over an existing file: 204 No Content');
ok($r && !exists $r->{headers}{location}, '204: no Location');
is(get_body('/a.bin'), "second\n", 'the file was replaced');

$r = request('PUT', '/dated', 'old', headers => ['Date: Sun, 06 Nov 1994 08:49:37 GMT']);
is(status($r), 201, 'PUT with a Date header: 201');
is((stat "$html/dated")[9], 784111777, 'the file\'s mtime is the Date header (as nginx)');

$r = request('PUT', '/empty', '');
is(status($r), 201, 'PUT with Content-Length: 0: 201');
ok(-f "$html/empty" && -s "$html/empty" == 0, 'empty body: empty file');

my $mb = $bytes x 4096;
$r = request('PUT', '/big.bin', $mb, timeout => 20);
is(status($r), 201, 'PUT 1 MB (client_body_buffer_size 8k: spooled): 201');
ok(defined $t->read_file('html/big.bin') && $t->read_file('html/big.bin') eq $mb,
   '1 MB body stored byte for byte');
is(length(get_body('/big.bin') // ''), length $mb, 'GET of the 1 MB file: full length');

# exactly the buffer size, and one byte past it
my $eight = 'e' x 8192;
$r = request('PUT', '/eight', $eight);
is(status($r), 201, 'body of exactly client_body_buffer_size: 201');
is($t->read_file('html/eight'), $eight, 'body of exactly the buffer size stored');
$r = request('PUT', '/eight1', $eight . 'f');
is($t->read_file('html/eight1'), $eight . 'f', 'buffer size + 1 (spooled) stored');

# --- chunked ------------------------------------------------------------------------------

my @chunks = ('first chunk ', "\0\r\n binary ", $bytes, 'x' x 3000, 'end');
my $chunked = join('', map { sprintf("%x\r\n%s\r\n", length, $_) } @chunks[0 .. 1])
              . sprintf("%x;name=value;flag\r\n%s\r\n", length $chunks[2], $chunks[2])
              . join('', map { sprintf("%X\r\n%s\r\n", length, $_) } @chunks[3 .. 4])
              . "0\r\nX-Trailer: yes\r\nX-Other: 1\r\n\r\n";
$r = request('PUT', '/chunked.bin', $chunked, no_length => 1,
             headers => ['Transfer-Encoding: chunked']);
is(status($r), 201, 'chunked PUT (extension, trailer): 201');
is($t->read_file('html/chunked.bin'), join('', @chunks), 'chunked body stored, framing removed');

my $big_chunked = join('', map { sprintf("%x\r\n%s\r\n", 5000, substr($mb, $_ * 5000, 5000)) }
                       0 .. 199) . "0\r\n\r\n";
$r = request('PUT', '/chunked-big.bin', $big_chunked, no_length => 1, timeout => 20,
             headers => ['Transfer-Encoding: chunked']);
is(status($r), 201, 'chunked PUT of 1,000,000 bytes in 200 chunks: 201');
ok(($t->read_file('html/chunked-big.bin') // '') eq substr($mb, 0, 1_000_000),
   'large chunked body (spooled) stored byte for byte');

$r = request('PUT', '/chunked-empty', "0\r\n\r\n", no_length => 1,
             headers => ['Transfer-Encoding: chunked']);
is(status($r), 201, 'chunked PUT of an empty body: 201');
ok(-f "$html/chunked-empty" && -s "$html/chunked-empty" == 0, 'empty chunked body: empty file');

# --- Expect: 100-continue -------------------------------------------------------------------

# Reads from s until the bytes seen match re or timeout seconds pass.
sub read_until
{
    my ($s, $re, $timeout) = @_;
    my $sel = IO::Select->new($s);
    my $buf = '';
    my $deadline = time() + $timeout;
    while (time() < $deadline && $buf !~ $re) {
        next unless $sel->can_read(0.1);
        my $n = sysread($s, $buf, 4096, length $buf);
        last unless $n;
    }
    return $buf;
}

my $s = connect_raw();
my $body = "sent after 100 Continue\n";
print {$s} "PUT /continue HTTP/1.1\r\n${H}Expect: 100-continue\r\nConnection: close\r\n"
    . "Content-Length: " . length($body) . "\r\n\r\n";
my $interim = read_until($s, qr/\r\n\r\n/, 3);
like($interim, qr{^HTTP/1\.1 100 Continue\r\n\r\n$},
     'Expect: 100-continue: "HTTP/1.1 100 Continue" before the body is sent');
ok(!-e "$html/continue", 'nothing created before the body arrives');
print {$s} $body;
$r = http_parse(read_response($s, timeout => 5));
is(status($r), 201, 'Expect: 100-continue: 201 after the body');
is($t->read_file('html/continue'), $body, 'Expect: 100-continue: body stored');

# --- client_max_body_size (1k in /small/) ---------------------------------------------------

$r = request('PUT', '/small/ok', 'o' x 1024);
is(status($r), 201, 'body at client_max_body_size: 201');

$s = connect_raw();
print {$s} "PUT /small/cl HTTP/1.1\r\n${H}Expect: 100-continue\r\nContent-Length: 1025\r\n\r\n";
$r = http_parse(read_response($s, timeout => 5));
is(status($r), 413, 'Content-Length over client_max_body_size: 413 (no 100 Continue first)');
# the client may still send the body it announced: the close waits for lingering_timeout
ok(is_closed($s, 4), 'Content-Length over the limit: connection closed');
ok(!-e "$html/small/cl", 'Content-Length over the limit: nothing created');

$r = request('PUT', '/small/cl2', 'z' x 1025);
is(status($r), 413, 'Content-Length over the limit with the body sent: 413');
ok(!-e "$html/small/cl2", 'nothing created');

$r = request('PUT', '/small/chunked', "200\r\n" . ('c' x 512) . "\r\n200\r\n" . ('c' x 512)
             . "\r\n1\r\nc\r\n0\r\n\r\n", no_length => 1,
             headers => ['Transfer-Encoding: chunked']);
is(status($r), 413, 'chunked body over client_max_body_size: 413');
ok(!-e "$html/small/chunked", 'chunked over the limit: nothing created');

# the same, with the limit crossed after the reader went asynchronous
$s = connect_raw();
my $raw = http(["PUT /small/chunked-late HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n",
                "300\r\n" . ('c' x 768) . "\r\n", "300\r\n" . ('c' x 768) . "\r\n0\r\n\r\n"],
               socket => $s, sleep => 0.3, timeout => 5);
is(status(http_parse($raw)), 413, 'chunked body crossing the limit in a later read: 413');
ok(is_closed($s, 4), 'chunked over the limit: connection closed');
ok(!-e "$html/small/chunked-late", 'nothing created');

$raw = http(["PUT /bad-chunked HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n",
             "5\r\nhelloXX0\r\n\r\n"], sleep => 0.3, timeout => 5);
is(status(http_parse($raw)), 400, 'invalid chunked body: 400');
ok(!-e "$html/bad-chunked", 'invalid chunked body: nothing created');

$r = request('PUT', '/small/chunked-ok', "200\r\n" . ('c' x 512) . "\r\n200\r\n" . ('c' x 512)
             . "\r\n0\r\n\r\n", no_length => 1, headers => ['Transfer-Encoding: chunked']);
is(status($r), 201, 'chunked body at the limit: 201');

# --- slow bodies and client_body_timeout (1s) -----------------------------------------------

my @pieces = ('slow ', 'body ', 'in ', 'five ', 'pieces');
$raw = http(["PUT /slow HTTP/1.1\r\n${H}Connection: close\r\nContent-Length: "
                . length(join '', @pieces) . "\r\n\r\n", @pieces], sleep => 0.3, timeout => 10);
is(status(http_parse($raw)), 201, 'body in pieces 0.3 s apart (timeout 1 s): 201');
is($t->read_file('html/slow'), join('', @pieces), 'slow body stored');

$raw = http(["PUT /slow-chunked HTTP/1.1\r\n${H}Connection: close\r\n"
             . "Transfer-Encoding: chunked\r\n\r\n", "5\r\nab", "cde\r\n", "3;x=y\r\nfgh\r\n",
             "0\r\n", "\r\n"], sleep => 0.3, timeout => 10);
is(status(http_parse($raw)), 201, 'chunked body split inside chunks and lines, slowly: 201');
is($t->read_file('html/slow-chunked'), 'abcdefgh', 'slow chunked body stored');

$s = connect_raw();
print {$s} "PUT /stalled HTTP/1.1\r\n${H}Content-Length: 100\r\n\r\n" . ('s' x 10);
my $t0 = time();
ok(is_closed($s, 5), 'body that stops: connection closed by client_body_timeout');
my $waited = time() - $t0;
ok($waited > 0.5 && $waited < 4.5, 'closed after about 1 s') or diag("closed after $waited s");
ok(!-e "$html/stalled", 'stalled body: nothing created');

$s = connect_raw();
print {$s} "PUT /stalled-chunked HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5\r\nab";
ok(is_closed($s, 5), 'chunked body that stops: connection closed');
ok(!-e "$html/stalled-chunked", 'stalled chunked body: nothing created');

$s = connect_raw();
print {$s} "PUT /aborted HTTP/1.1\r\n${H}Content-Length: 100000\r\n\r\n" . ('a' x 20000);
close $s;
# the same connection is gone; a fresh request proves the worker is fine
is(status(request('PUT', '/after-abort', 'fine')), 201, 'client closing mid-body: next PUT works');
ok(!-e "$html/aborted", 'aborted body: nothing created');

# --- keep-alive: a body, then the next request on the same connection ------------------------

$s = connect_raw();
$r = http_parse(http("PUT /ka1 HTTP/1.1\r\n${H}Content-Length: 4\r\n\r\nka-1", socket => $s));
is(status($r), 201, 'keep-alive: first PUT 201');
$r = http_parse(http("PUT /ka2 HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n"
                     . "4\r\nka-2\r\n0\r\n\r\nGET /ka1 HTTP/1.1\r\n${H}Connection: close\r\n\r\n",
                     socket => $s));
is(status($r), 201, 'keep-alive: chunked PUT with a pipelined GET behind it: 201');
$r = http_parse(read_response($s, timeout => 5));
is($r && $r->{body}, 'ka-1', 'the pipelined GET after a chunked body is answered');
is($t->read_file('html/ka2'), 'ka-2', 'the chunked body did not swallow the next request');

# --- PUT errors --------------------------------------------------------------------------------

$r = request('PUT', '/missing/dir/file', 'x');
is(status($r), 409, 'PUT into a missing directory: 409');
ok(!-e "$html/missing", 'no directory created without create_full_put_path');

$r = request('PUT', '/full/a/b/c/file', 'deep');
is(status($r), 201, 'create_full_put_path on: 201');
is($t->read_file('html/full/a/b/c/file'), 'deep', 'intermediate directories created');

$r = request('PUT', '/al/x/y', 'aliased');
is(status($r), 201, 'PUT under an alias with create_full_put_path: 201');
is($t->read_file('html/aliased/x/y'), 'aliased', 'the file is under the alias');

$r = request('PUT', '/a.bin/child', 'x');
is(status($r), 409, 'PUT below a file: 409');

$r = request('PUT', '/small/', 'x');
is(status($r), 409, 'PUT to a URI ending in "/": 409');

$r = request('PUT', '/small', 'x');
is(status($r), 409, 'PUT over a directory: 409');
ok(-d "$html/small", 'the directory is intact');

$r = request('PUT', '/range', 'x', headers => ['Content-Range: bytes 0-0/1']);
is(status($r), 501, 'PUT with Content-Range: 501');
ok(!-e "$html/range", 'Content-Range: nothing created');

$r = request('PUT', '/ro/file', 'x');
is(status($r), 405, 'dav_methods off: PUT answered 405');
is($t->read_file('html/ro/file'), "read only\n", 'dav_methods off: file untouched');

$r = request('PUT', '/inner/new', 'x');
is(status($r), 405, 'PUT not in this location\'s dav_methods: 405');

# --- MKCOL -------------------------------------------------------------------------------------

$r = request('MKCOL', '/col/');
is(status($r), 201, 'MKCOL: 201');
ok(-d "$html/col", 'MKCOL created the directory');
is(status(request('MKCOL', '/col/')), 405, 'MKCOL on an existing directory: 405');
is(status(request('MKCOL', '/nocol')), 409, 'MKCOL without a trailing "/": 409');
is(status(request('MKCOL', '/nothere/col/')), 409, 'MKCOL with a missing parent: 409');
is(status(request('MKCOL', '/bodycol/', 'body')), 415, 'MKCOL with a body: 415');
ok(!-e "$html/bodycol", 'MKCOL with a body: nothing created');

# --- DELETE ------------------------------------------------------------------------------------

is(status(request('DELETE', '/a.bin', 'body')), 415, 'DELETE with a body: 415');
ok(-e "$html/a.bin", 'DELETE with a body: the file stays');
is(status(request('DELETE', '/a.bin')), 204, 'DELETE a file: 204');
ok(!-e "$html/a.bin", 'the file is gone');
is(status(request('DELETE', '/a.bin')), 404, 'DELETE a missing file: 404');

make_path("$html/tree/sub/deeper", "$html/tree/empty");
$t->write_file('html/tree/f', 'f');
$t->write_file('html/tree/sub/deeper/g', 'g');
$t->write_file('outside/keep', 'keep');
symlink("${p}outside", "$html/tree/sub/link") or die "symlink: $!";

is(status(request('DELETE', '/tree')), 409, 'DELETE a directory without the "/": 409');
is(status(request('DELETE', '/tree/', undef, headers => ['Depth: 1'])), 400,
   'DELETE a directory with Depth: 1: 400 (nginx)');
ok(-e "$html/tree/f", 'refused DELETEs removed nothing');
is(status(request('DELETE', '/tree/', undef, headers => ['Depth: infinity'])), 204,
   'DELETE a directory tree: 204');
ok(!-e "$html/tree", 'the tree is gone');
is($t->read_file('outside/keep'), 'keep', 'a symbolic link in the tree was not followed');

is(status(request('DELETE', '/deep/a')), 409, 'min_delete_depth 3: /deep/a refused (409)');
ok(-d "$html/deep/a", 'min_delete_depth: nothing removed');
$t->write_file('html/deep/a/b', 'b');
is(status(request('DELETE', '/deep/a/b')), 204, 'min_delete_depth 3: /deep/a/b deleted');

is(status(request('DELETE', '/inner/file')), 204, 'DELETE where only DELETE is enabled: 204');

# --- what is left behind --------------------------------------------------------------------------

my @temp = glob("${p}client_body_temp/*");
is(scalar @temp, 0, 'client_body_temp holds no leftover files') or diag("@temp");

my @stray;
find(sub { push @stray, $File::Find::name if /^\.sl_dav_/ }, $html);
is(scalar @stray, 0, 'no temporary PUT files left in the document root') or diag("@stray");

unlike($t->error_log, qr/\[(?:alert|crit|emerg)\]/, 'no alert, crit or emerg logged');
unlike($t->error_log . $t->stderr, qr/AddressSanitizer|runtime error/, 'no sanitizer report');

# --- configuration errors ----------------------------------------------------------------------

$t->stop();

for my $case (['dav_methods PUT COPY;', qr/the COPY\/MOVE methods are not supported/],
              ['dav_methods off PUT;', qr/"off" cannot be combined/],
              ['dav_access user:rwx;', qr/invalid value "user:rwx" in "dav_access"/]) {
    $t->write_conf("events { }\nhttp { $case->[0] }\n");
    my ($code, $out) = $t->test_config();
    ok($code && $out =~ $case->[1], "configuration \"$case->[0]\" refused") or diag($out);
}

