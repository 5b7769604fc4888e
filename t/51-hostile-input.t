#!/usr/bin/perl

# t/51-hostile-input.t: hostile bytes over real sockets, beyond what
# t/02-parser.t, t/05-body.t, t/10-static-files.t and t/21-proxy-errors.t
# already send. Every case asserts its status and what happens to the
# connection (closed after a rejection, still usable after a 404/403/301/
# 416/412 or an ignored header), and the server must stay up throughout.
#
#   - paths: bad or truncated escapes, %00, %2f, every mix of "." and
#     "%2e"/"%2E" in dot segments (above the root: 400), overlong UTF-8,
#     raw and encoded invalid UTF-8, encoded CR/LF (never a forged log line
#     or response header), backslashes, against root, alias and a regex
#     alias, with a sentinel file outside the root that must never be sent.
#     Regression: "location /al2 { alias .../data/; }" (no trailing slash)
#     used to serve "/al2../secret.txt" from outside the alias; a directory
#     whose name holds CR LF used to split the 301's Location header.
#   - empty lines before a request line, enough to fill every header buffer:
#     skipped as nginx skips them (regression: they were answered 414).
#   - numbers: Content-Length (signs, leading zeros, 2^63 - 1, 2^63, 2^64,
#     2^64 + 5, lists, blanks), chunk sizes (0x, +, 2^63 - 1, 2^64, 2^64 + 5,
#     extensions, leading zeros), Range (overflowing, negative, malformed,
#     many ranges), out-of-range dates in If-Modified-Since,
#     If-Unmodified-Since and If-Range, Keep-Alive, Max-Forwards, the port
#     of Host, HTTP version numbers; and through proxy_pass (buffered and
#     not) the status code, Content-Length and chunk sizes of upstream
#     responses.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Sluice::Test qw(http http_get http_parse read_response connect_raw is_closed);
use Sluice::Backend qw(backend read_body send_all);

my $t = Sluice::Test->new()->has(qw(http_static http_index http_rewrite http_proxy http_dav
                                    http_range_filter http_not_modified_filter));
my $p = $t->prefix;

# --- the upstream: answers /<case> with the bytes of that case ----------------------

my %UP = (
    'st0' => "HTTP/1.1 0 OK\r\nContent-Length: 2\r\n\r\nok",
    'st000' => "HTTP/1.1 000 OK\r\nContent-Length: 2\r\n\r\nok",
    'st099' => "HTTP/1.1 099 OK\r\nContent-Length: 2\r\n\r\nok",
    'st99' => "HTTP/1.1 99 OK\r\nContent-Length: 2\r\n\r\nok",
    'st1000' => "HTTP/1.1 1000 OK\r\nContent-Length: 2\r\n\r\nok",
    'st2p32' => "HTTP/1.1 4294967296 OK\r\nContent-Length: 2\r\n\r\nok",
    'st2p32+200' => "HTTP/1.1 4294967496 OK\r\nContent-Length: 2\r\n\r\nok",
    'st-200' => "HTTP/1.1 -200 OK\r\nContent-Length: 2\r\n\r\nok",
    'st20x' => "HTTP/1.1 20x OK\r\nContent-Length: 2\r\n\r\nok",
    'v-big' => "HTTP/4294967297.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
    'v-1.10' => "HTTP/1.10 200 OK\r\nContent-Length: 2\r\n\r\nok",
    'cl-neg' => "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\nok",
    'cl-plus' => "HTTP/1.1 200 OK\r\nContent-Length: +2\r\n\r\nok",
    'cl-20digits' => "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\nok",
    'cl-2p63' => "HTTP/1.1 200 OK\r\nContent-Length: 9223372036854775808\r\n\r\nok",
    'cl-2p64+2' => "HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551618\r\n\r\nok",
    'cl-list-same' => "HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nok",
    'cl-list-diff' => "HTTP/1.1 200 OK\r\nContent-Length: 2, 3\r\n\r\nok",
    'cl-empty' => "HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\nok",
    'cl-hex' => "HTTP/1.1 200 OK\r\nContent-Length: 0x2\r\n\r\nok",
    'ch-20f' => "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                . "ffffffffffffffffffff\r\nok\r\n0\r\n\r\n",
    'ch-2p63-1' => "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                   . "7fffffffffffffff\r\nok\r\n0\r\n\r\n",
    'ch-2p64+2' => "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                   . "10000000000000002\r\nok\r\n0\r\n\r\n",
    'ch-neg' => "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-2\r\nok\r\n0\r\n\r\n",
    'ch-0x' => "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0x2\r\nok\r\n0\r\n\r\n",
    'cl-lead0' => "HTTP/1.1 200 OK\r\nContent-Length: 0002\r\n\r\nok",
    'st999' => "HTTP/1.1 999 Odd\r\nContent-Length: 2\r\n\r\nok",
    'ch-ext' => "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                . "2;x=\"y;z\"\r\nok\r\n0\r\n\r\n",
    'ch-lead0' => "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                  . "00000000000000000000002\r\nok\r\n0000000000000000\r\n\r\n",
    'cl-max' => "HTTP/1.1 200 OK\r\nContent-Length: 9223372036854775807\r\n\r\nok",
);

backend(8081, sub {
    my ($conn, $req) = @_;
    read_body($conn, $req);
    my ($case) = $req->{uri} =~ m{^/([^/?]+)};
    send_all($conn, $UP{$case // ''} // "HTTP/1.1 404 Nope\r\nContent-Length: 0\r\n\r\n");
    # give the proxy time to read everything before the close
    select(undef, undef, undef, 0.2);
    return 0;
});

# root: DAV must be able to write where the tests say it may (ignored, with a
# warning, when the suite does not run as root)
$t->write_conf(<<"END");
error_log logs/error.log info;
worker_processes 1;
user root root;
events { }
http {
    default_type text/plain;
    server {
        listen 127.0.0.1:%%PORT_8080%%;
        server_name localhost;
        root ${p}html;
        client_max_body_size 1k;
        lingering_timeout 1s;
        proxy_read_timeout 3s;

        location / { }
        location /al/ { alias ${p}data/; }
        location /al2 { alias ${p}data/; }
        location /dav2 { alias ${p}data/; dav_methods PUT DELETE; }
        location /before/ { if_modified_since before; alias ${p}html/; }
        location /ret { return 200 "ret\\n"; }
        location /inject { add_header X-Uri \$uri; return 200 "inj\\n"; }
        location /put/ { dav_methods PUT; }
        location /px/ { proxy_pass http://127.0.0.1:%%PORT_8081%%/; }
        location /pxu/ { proxy_buffering off; proxy_pass http://127.0.0.1:%%PORT_8081%%/; }
    }
}
END

$t->write_file('html/a.txt', "a\n");
$t->write_file('html/file.txt', "hello world 0123456789\n");
$t->write_file('html/sub/b.txt', "b\n");
$t->write_file("html/\xc0\xae", "overlong name\n");
$t->write_file("html/cr\r\nX-Injected: 1/x", "x");
$t->write_file('data/d.txt', "d\n");
$t->write_file('data/..d.txt', "dots\n");
$t->write_file('secret.txt', "SENTINEL\n");
$t->write_file('secret/index.html', "SENTINEL\n");
mkdir "${p}html/put";
chmod 0777, "${p}html/put";

$t->plan(534);
$t->run();

my $H = "Host: localhost\r\n";
my $leaked = 0;

# Sends req on a fresh connection. want: the status. after: 'closed' (the
# server closes the connection) or 'open' (a next request on it is served).
# Returns the parsed response.
sub probe
{
    my ($name, $req, $want, $after, %opts) = @_;
    my $s = connect_raw();
    my $raw = $s ? http($req, socket => $s, timeout => 4, head => $opts{head}) : undef;
    my $r = http_parse($raw, head => $opts{head});
    $leaked++ if defined $raw && $raw =~ /SENTINEL/;
    is($r ? $r->{status} : 'no response', $want, "$name: $want")
        or diag('response: ' . (defined $raw ? substr($raw, 0, 300) : 'none'));
    if ($after eq 'closed') {
        ok($s && is_closed($s, 5), "$name: connection closed");
    } else {
        my $next = $s ? http_parse(http("GET /a.txt HTTP/1.1\r\n$H\r\n", socket => $s,
                                        timeout => 4)) : undef;
        ok($next && $next->{status} == 200 && $next->{body} eq "a\n",
           "$name: connection still usable");
    }
    close $s if $s;
    return $r;
}

sub get_line { my ($target) = @_; return "GET $target HTTP/1.1\r\n$H\r\n"; }

# --- invalid percent-encoding --------------------------------------------------------

for my $u ('/%', '/%4', '/%4g', '/%g4', '/a.txt%', '/%%41', '/sub/%', '/sub/%e') {
    probe("escape \"$u\"", get_line($u), 400, 'closed');
}
for my $u ('/%00', '/a.txt%00', '/a%00.txt', '/sub/%00/', '/%00/../a.txt', '/al/d.txt%00') {
    probe("NUL \"$u\"", get_line($u), 400, 'closed');
}

# %2f decodes to a '/' like any other (as in nginx).
my $r = probe('"/sub%2fb.txt"', get_line('/sub%2fb.txt'), 200, 'open');
is($r && $r->{body}, "b\n", '"/sub%2fb.txt": the file sub/b.txt');
$r = probe('"/%2Fa.txt"', get_line('/%2Fa.txt'), 200, 'open');
is($r && $r->{body}, "a\n", '"/%2Fa.txt": slashes merged, a.txt');
probe('"/sub%2F" (a directory without index)', get_line('/sub%2F'), 403, 'open');
$r = probe('"/%73ub" (an escaped directory name)', get_line('/%73ub'), 301, 'open');
like($r && $r->{headers}{location} // '', qr{^http://[^/]+/sub/$}, '"/%73ub": Location /sub/');

# --- dot segments in every spelling --------------------------------------------------

my @dots = ('.', '%2e', '%2E');
my @slashes = ('/', '%2f', '%2F');
my $n_above = 0;
for my $a (@dots) {
    for my $b (@dots) {
        my $dd = "$a$b";
        # directly above the root, and two levels up from /sub/
        probe("\"/$dd/secret.txt\"", get_line("/$dd/secret.txt"), 400, 'closed');
        probe("\"/$dd\"", get_line("/$dd"), 400, 'closed');
        for my $sl (@slashes) {
            probe("\"/sub/$dd$sl$dd${sl}secret.txt\"", get_line("/sub/$dd$sl$dd${sl}secret.txt"),
                  400, 'closed');
            $n_above++;
        }
        # one level up from /sub/ stays inside the root
        $r = probe("\"/sub/$dd/a.txt\"", get_line("/sub/$dd/a.txt"), 200, 'open');
        is($r && $r->{body}, "a\n", "\"/sub/$dd/a.txt\": resolved to /a.txt");
    }
    $r = probe("\"/$a/a.txt\"", get_line("/$a/a.txt"), 200, 'open');
    is($r && $r->{body}, "a\n", "\"/$a/a.txt\": \".\" segment dropped");
}
probe('absolute-form "http://localhost/../secret.txt"',
      "GET http://localhost/../secret.txt HTTP/1.1\r\n$H\r\n", 400, 'closed');
probe('absolute-form "http://localhost/%2e%2e/secret.txt"',
      "GET http://localhost/%2e%2e/secret.txt HTTP/1.1\r\n$H\r\n", 400, 'closed');
probe('target "../secret.txt" without the leading slash',
      "GET ../secret.txt HTTP/1.1\r\n$H\r\n", 400, 'closed');
probe('target "%2e%2e/secret.txt"', "GET %2e%2e/secret.txt HTTP/1.1\r\n$H\r\n", 400, 'closed');

# --- overlong UTF-8 and invalid bytes: names, never separators -----------------------

for my $u ('/%c0%ae%c0%ae/secret.txt', '/%c0%ae%c0%ae%c0%afsecret.txt', '/..%c0%afsecret.txt',
           '/sub/%c0%ae%c0%ae/%c0%ae%c0%ae/secret.txt', '/%e0%80%ae%e0%80%ae/secret.txt',
           '/%c1%9c..%c1%9csecret.txt', '/%ff%fe', '/%80', "/\xff\xfe",
           "/\xc0\xae\xc0\xae/secret.txt",
           '/al/%c0%ae%c0%ae/secret.txt') {
    (my $shown = $u) =~ s/([^\x21-\x7e])/sprintf('\\x%02x', ord $1)/ge;
    probe("\"$shown\"", get_line($u), 404, 'open');
}
$r = probe('"/%c0%ae" (a file with that byte name)', get_line('/%c0%ae'), 200, 'open');
is($r && $r->{body}, "overlong name\n", '"/%c0%ae": the file named by the raw bytes');

# --- encoded CR/LF: no forged log line, no forged header -----------------------------

my $before = length $t->error_log;
probe('"/%0d%0aX-Forged:%20yes"', get_line('/%0d%0aX-Forged:%20yes'), 404, 'open');
probe('"/a.txt%0a"', get_line('/a.txt%0a'), 404, 'open');
my $log = substr($t->error_log, $before);
like($log, qr/open\(\) "[^"\n]*\\x0d\\x0aX-Forged: yes" failed/,
     'encoded CR LF: the open() line shows them escaped');
unlike($log, qr/^X-Forged/m, 'encoded CR LF: no forged line in the error log');

$r = probe('directory named with CR LF: 301', get_line('/cr%0d%0aX-Injected:%201'), 301, 'open');
ok($r && !exists $r->{headers}{'x-injected'}, 'directory named with CR LF: no forged header');
like($r && $r->{headers}{location} // '', qr{/cr%0D%0AX-Injected:%201/$},
     'directory named with CR LF: Location escaped');

# --- backslashes are ordinary bytes ---------------------------------------------------

for my $u ("/sub\\..\\..\\secret.txt", '/sub%5c..%5c..%5csecret.txt', "/..\\secret.txt",
           "/\\..\\secret.txt") {
    probe("backslashes \"$u\"", get_line($u), 404, 'open');
}

# --- alias ------------------------------------------------------------------------------

$r = probe('alias "/al/d.txt"', get_line('/al/d.txt'), 200, 'open');
is($r && $r->{body}, "d\n", 'alias: the file');
probe('alias "/al/../secret.txt" (resolved to /secret.txt under root)',
      get_line('/al/../secret.txt'), 404, 'open');
probe('alias "/al/%2e%2e/%2e%2e/secret.txt"', get_line('/al/%2e%2e/%2e%2e/secret.txt'), 400,
      'closed');
# The alias of a location without a trailing slash: the ".." is glued on.
for my $u ('/al2../secret.txt', '/al2%2e%2e/secret.txt', '/al2.%2E/secret.txt',
           '/al2..%2fsecret.txt', '/al2../secret', '/al2../secret/', '/al2../secret/index.html',
           '/al2..', '/al2../secret.txt?a=b') {
    probe("alias glued to \"..\": \"$u\"", get_line($u), 404, 'open');
}
$r = probe('"/al2/d.txt" still served', get_line('/al2/d.txt'), 200, 'open');
is($r && $r->{body}, "d\n", '"/al2/d.txt": the file');
$r = probe('"/al2..d.txt" (dots inside a name) not refused', get_line('/al2..d.txt'), 200, 'open');
is($r && $r->{body}, "dots\n", '"/al2..d.txt": the file data/..d.txt');
like($t->error_log, qr/climbs out of the root or alias/, 'alias glued to "..": logged');
# Regression: the same hole let DAV write and delete outside the alias.
probe('PUT through an alias glued to ".."',
      "PUT /dav2../evil.txt HTTP/1.1\r\n${H}Content-Length: 4\r\n\r\nevil", 404, 'open');
ok(!-e $t->prefix . 'evil.txt', 'PUT wrote nothing outside the alias');
probe('DELETE through an alias glued to ".."', "DELETE /dav2../secret.txt HTTP/1.1\r\n$H\r\n",
      404, 'open');
is($t->read_file('secret.txt'), "SENTINEL\n", 'DELETE removed nothing outside the alias');
$r = probe('PUT inside the alias still works',
           "PUT /dav2/new.txt HTTP/1.1\r\n${H}Content-Length: 3\r\n\r\nnew", 201, 'open');
is($t->read_file('data/new.txt'), 'new', 'PUT inside the alias: the file');

# A response field built from request data never carries a CR or LF.
$r = probe('add_header $uri with an encoded CR LF', get_line('/inject%0d%0aX-Evil:%201'), 200,
           'open');
ok($r && !exists $r->{headers}{'x-evil'} && !exists $r->{headers}{'x-uri'},
   'the field with CR LF is not sent, and nothing is injected');
like($t->error_log, qr/response header "X-Uri" has a control character in its value, not sent/,
     'the dropped field is logged');
$r = probe('add_header $uri, plain', get_line('/inject/plain'), 200, 'open');
is($r && $r->{headers}{'x-uri'}, '/inject/plain', 'a clean value is sent');

is($leaked, 0, 'the sentinel outside the root was never sent');

# --- empty lines before a request line are skipped, however many (as nginx) -------------

# Regression: once they filled the header buffers they were answered 414.
$r = probe('100,000 bytes of CRLF before the request line',
           ("\r\n" x 50000) . "GET /a.txt HTTP/1.1\r\n$H\r\n", 200, 'open');
is($r && $r->{body}, "a\n", 'CRLF flood: then the request served');
probe('bare LFs, a CR LF split across reads, before the request line',
      "\n" . ("\r\n" x 30000) . ("\n" x 1001) . "GET /a.txt HTTP/1.1\r\n$H\r\n", 200, 'open');
{
    my $s = connect_raw();
    my $raw = http("GET /a.txt HTTP/1.1\r\n$H\r\n" . ("\r\n" x 50000)
                   . "GET /sub/b.txt HTTP/1.1\r\n${H}Connection: close\r\n\r\n",
                   socket => $s, timeout => 5);
    my $rest = read_response($s, timeout => 5) // '';
    my @all = map { http_parse($_) } grep { defined } ($raw, $rest);
    is(join(',', map { "$_->{status} $_->{body}" } @all), "200 a\n,200 b\n",
       'CRLF flood between two pipelined requests: both served');
    close $s;
}

# --- Content-Length ---------------------------------------------------------------------

sub post { my ($cl, $body) = @_; return "POST /ret HTTP/1.1\r\n${H}Content-Length: $cl\r\n\r\n"
                                        . ($body // 'hello'); }

for my $cl ('-0', '5.0', '1e3', '2^3', '', '5,5', '5, 5', '5, 6', '5 ,5', '9223372036854775808',
            '18446744073709551616', '18446744073709551621',
            '000000000000000000000000000000000005x') {
    probe("Content-Length \"$cl\"", post($cl), 400, 'closed');
}
for my $cl ('05', '0000000000000000000000000000000005', " 5 ", "5\t") {
    $r = probe("Content-Length \"$cl\"", post($cl), 200, 'open');
}
probe('Content-Length 2^63 - 1 (over client_max_body_size)', post('9223372036854775807'), 413,
      'closed');
probe('PUT with Content-Length 2^63 - 1', "PUT /put/max HTTP/1.1\r\n${H}"
      . "Content-Length: 9223372036854775807\r\n\r\nhello", 413, 'closed');

# --- chunk sizes (the body is read: PUT) ------------------------------------------------

sub put_chunked
{
    my ($name, $chunks) = @_;
    return "PUT /put/$name HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n$chunks";
}

my %bad_chunks = (
    '0x5' => "0x5\r\nhello\r\n0\r\n\r\n",
    '+5' => "+5\r\nhello\r\n0\r\n\r\n",
    'empty size' => "\r\nhello\r\n0\r\n\r\n",
    '2^63 - 1' => "7fffffffffffffff\r\nhello\r\n0\r\n\r\n",
    '2^64' => "10000000000000000\r\nhello\r\n0\r\n\r\n",
    '2^64 + 5' => "10000000000000005\r\nhello\r\n0\r\n\r\n",
    'a space inside' => "5 5\r\nhello\r\n0\r\n\r\n",
    'size then junk' => "5x\r\nhello\r\n0\r\n\r\n",
);
for my $k (sort keys %bad_chunks) {
    probe("chunk size $k", put_chunked('bad', $bad_chunks{$k}), 400, 'closed');
}
probe('chunk size 2^60 - 1 (the largest parsed; over client_max_body_size)',
      put_chunked('big', "fffffffffffffff\r\nhello\r\n0\r\n\r\n"), 413, 'closed');
my %good_chunks = (
    'ext' => "5;a=b;c=\"d;e\"\r\nhello\r\n0;z\r\n\r\n",
    'bws' => "5 ; a=b\r\nhello\r\n0\r\n\r\n",
    'lead0' => "0000000000000000000000000005\r\nhello\r\n00000000000000000000000000\r\n\r\n",
    'upper' => "A\r\nhellohello\r\n0\r\n\r\n",
);
for my $k (sort keys %good_chunks) {
    probe("chunked PUT ($k)", put_chunked($k, $good_chunks{$k}), 201, 'open');
}
is($t->read_file("html/put/lead0"), 'hello', 'chunk size with leading zeros: body stored');
is($t->read_file("html/put/upper"), 'hellohello', 'chunk size in upper case hex: body stored');

# --- Range --------------------------------------------------------------------------------

sub ranged { return "GET /file.txt HTTP/1.1\r\n${H}Range: $_[0]\r\n\r\n"; }

for my $spec ('bytes=0-99999999999999999999', 'bytes=99999999999999999999-',
              'bytes=-99999999999999999999', 'bytes=9223372036854775807-',
              'bytes=9223372036854775808-9223372036854775809', 'bytes=-9223372036854775808',
              'bytes=-0', 'bytes=5-3', 'bytes=--5', 'bytes=0--5', 'bytes=+1-3', 'bytes=0x1-3',
              'bytes=1-3,', 'bytes=,1-3', 'bytes=1-3,,4-5', 'bytes=100-200,300-400',
              'bytes=1-2;3', 'bytes=a-b') {
    $r = probe("Range \"$spec\"", ranged($spec), 416, 'open');
}
like($r && $r->{headers}{'content-range'} // '', qr{^bytes \*/23$}, '416: Content-Range */23');
for my $c (['bytes=0-9223372036854775807', 'bytes 0-22/23'],
           ['bytes=-9223372036854775807', 'bytes 0-22/23'],
           ['bytes=100-200,1-2', 'bytes 1-2/23'],
           ['BYTES=1-2', 'bytes 1-2/23'],
           ['bytes = 1-2', undef]) {
    my ($spec, $cr) = @$c;
    if (!defined $cr) {
        probe("Range \"$spec\" (not a bytes range: ignored)", ranged($spec), 200, 'open');
        next;
    }
    $r = probe("Range \"$spec\"", ranged($spec), 206, 'open');
    is($r && $r->{headers}{'content-range'}, $cr, "Range \"$spec\": Content-Range $cr");
}
probe('Range "items=1-2" (another unit: ignored)', ranged('items=1-2'), 200, 'open');
probe('Range of 1000 single bytes (whole 200)',
      ranged('bytes=' . join(',', map { "$_-$_" } 0 .. 999)), 200, 'open');
probe('Range with 100 overlapping copies (whole 200)', ranged('bytes=' . join(',', ('0-0') x 100)),
      200, 'open');

# --- dates --------------------------------------------------------------------------------

sub cond { my ($path, $h) = @_; return "GET $path HTTP/1.1\r\n$H$h\r\n\r\n"; }

my @bad_dates = ('Sat, 01 Jan 99999 00:00:00 GMT', 'Mon, 32 Jan 2020 00:00:00 GMT',
                 'Mon, 01 Jan 2020 25:61:61 GMT', 'Mon, 01 Foo 2020 00:00:00 GMT',
                 'Wed, 01 Jan 1969 00:00:00 GMT', 'Sat, 29 Feb 2020 24:00:00 GMT',
                 'Sun, 29 Feb 2021 00:00:00 GMT', '-1', '99999999999999999999',
                 'Thu, 01 Jan 1970 00:00:00 GMT+99999999999999999999');
# An invalid If-Modified-Since is ignored: the full response, even in "before" mode.
for my $d (@bad_dates) {
    probe("If-Modified-Since \"$d\" (before mode)", cond('/before/file.txt',
          "If-Modified-Since: $d"), 200, 'open');
}
probe('If-Modified-Since year 9999, exact mode', cond('/file.txt',
      'If-Modified-Since: Fri, 31 Dec 9999 23:59:59 GMT'), 200, 'open');
probe('If-Modified-Since year 9999, before mode', cond('/before/file.txt',
      'If-Modified-Since: Fri, 31 Dec 9999 23:59:59 GMT'), 304, 'open');
probe('If-Modified-Since 1970 (before the file)', cond('/before/file.txt',
      'If-Modified-Since: Thu, 01 Jan 1970 00:00:00 GMT'), 200, 'open');
probe('If-Unmodified-Since year 9999', cond('/file.txt',
      'If-Unmodified-Since: Fri, 31 Dec 9999 23:59:59 GMT'), 200, 'open');
# nginx answers 412 to an If-Unmodified-Since it cannot parse; so does Sluice.
for my $d ('Sat, 01 Jan 99999 00:00:00 GMT', 'Sun, 29 Feb 2021 00:00:00 GMT', 'garbage') {
    probe("If-Unmodified-Since \"$d\"", cond('/file.txt', "If-Unmodified-Since: $d"), 412,
          'open');
}
for my $d ('Fri, 31 Dec 9999 23:59:59 GMT', 'Sat, 01 Jan 99999 00:00:00 GMT', 'garbage') {
    probe("If-Range \"$d\" (no match: the whole 200)",
          cond('/file.txt', "Range: bytes=0-1\r\nIf-Range: $d"), 200, 'open');
}

# --- headers Sluice does not interpret: ignored ------------------------------------------

for my $h ('Keep-Alive: timeout=99999999999999999999, max=-1', 'Keep-Alive: -1',
           'Max-Forwards: 99999999999999999999', 'Max-Forwards: -1') {
    $r = probe("\"$h\" ignored", cond('/ret', $h), 200, 'open');
}
probe('Host port of 20 digits (not interpreted)',
      "GET /ret HTTP/1.1\r\nHost: localhost:99999999999999999999\r\n\r\n", 200, 'open');
probe('Host port "-1"', "GET /ret HTTP/1.1\r\nHost: localhost:-1\r\n\r\n", 400, 'closed');

# --- HTTP version numbers: one digit each (RFC 9112) ---------------------------------------

for my $v ('HTTP/1.10', 'HTTP/01.1', 'HTTP/9999999999.1', 'HTTP/1.9999999999', 'HTTP/10.0',
           'HTTP/1.-1', 'HTTP/-1.1', 'HTTP/1.', 'HTTP/.1', 'HTTP/1.1.1', 'HTTP/1,1') {
    probe("version \"$v\"", "GET /ret $v\r\n$H\r\n", 400, 'closed');
}
probe('version "HTTP/1.9": served as 1.1', "GET /ret HTTP/1.9\r\n$H\r\n", 200, 'open');

# --- numbers in upstream responses ----------------------------------------------------------

my @up_502 = qw(st0 st000 st099 st99 st1000 st2p32 st2p32+200 st-200 st20x v-big v-1.10
                cl-neg cl-plus cl-20digits cl-2p63 cl-2p64+2 cl-list-same cl-list-diff cl-empty
                cl-hex);
for my $loc ('px', 'pxu') {
    for my $case (@up_502) {
        $r = http_parse(http_get("/$loc/$case", timeout => 5));
        is($r ? $r->{status} : 'no response', 502, "/$loc: upstream $case: 502");
    }
    # A bad chunk size is found in the body: the client never gets a
    # complete response (the header may have gone out already).
    for my $case (qw(ch-20f ch-2p63-1 ch-2p64+2 ch-neg ch-0x)) {
        my $raw = http_get("/$loc/$case", timeout => 5);
        $r = http_parse($raw);
        ok(!$r || $r->{status} == 502 || $r->{incomplete},
           "/$loc: upstream $case: never a complete response")
            or diag(substr($raw // '', 0, 300));
    }
    for my $c (['cl-lead0', 200, 'ok'], ['st999', 999, 'ok'], ['ch-ext', 200, 'ok'],
               ['ch-lead0', 200, 'ok']) {
        my ($case, $status, $body) = @$c;
        $r = http_parse(http_get("/$loc/$case", timeout => 5));
        is($r && "$r->{status} $r->{body}", "$status $body", "/$loc: upstream $case: passed on");
    }
    $r = http_parse(http_get("/$loc/cl-max", timeout => 5));
    ok($r && $r->{status} == 200 && $r->{incomplete},
       "/$loc: upstream Content-Length 2^63 - 1 then a close: a short body, not a complete one");
}
like($t->error_log, qr/upstream sent invalid "Content-Length" header/,
     'upstream Content-Length: logged');
like($t->error_log, qr/upstream sent invalid chunked response/, 'upstream chunk size: logged');

# --- still up ------------------------------------------------------------------------------

$r = http_parse(http_get('/a.txt'));
is($r && $r->{body}, "a\n", 'server still serves after all this');
unlike($t->error_log, qr/\[(?:alert|crit|emerg)\]/, 'no alert, crit or emerg logged');
