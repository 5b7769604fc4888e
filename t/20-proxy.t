#!/usr/bin/perl

# t/20-proxy.t: proxy_pass as nginx does it. The URI rules (with and
# without a URI part, with variables), the request fields (proxy_set_header
# defaults, an empty value removing a field, hop-by-hop fields and what the
# client's Connection lists never crossing), the response fields
# (proxy_hide_header, proxy_pass_header, hop-by-hop), bodies in both
# directions (Content-Length and chunked, buffered or streamed), HEAD,
# interim responses, proxy_redirect, proxy_intercept_errors, the
# $upstream_* and $proxy_* variables, and large bodies through bounded
# worker memory while a slow client stalls nobody else.
#
# The backend is a small forking Perl server started here; it answers by
# path and echoes what it received. SLUICE_TEST_BIG sets the size of the
# large transfers in MB (default 64; 1024 for the full 1 GB check).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use IO::Select;
use IO::Socket::IP;
use POSIX qw(WNOHANG);
use Socket qw(SOL_SOCKET SO_RCVBUF);
use Test::More;
use Time::HiRes qw(sleep time);
use Sluice::Test qw(http http_get http_parse read_response connect_raw port);
use Sluice::Backend qw(backend read_body send_all respond);

my $t = Sluice::Test->new()->has(qw(http_proxy http_rewrite http_headers));

my $BIG = ($ENV{SLUICE_TEST_BIG} // 64) * 1024 * 1024;

# --- the backend ---------------------------------------------------------------

# The echo backend: answers by path.
my $count_file = $t->prefix . 'backend-requests';

backend(8081, sub {
    my ($conn, $req) = @_;
    my $uri = $req->{uri};
    open my $cf, '>>', $count_file; print {$cf} "$uri\n"; close $cf;

    if ($uri =~ m{^/big/(\d+)}) {
        my $n = $1;
        my $keep = $req->{version} eq '1.1';
        send_all($conn, "HTTP/1.1 200 OK\r\nContent-Length: $n\r\n\r\n");
        my $block = 'x' x 65536;
        while ($n > 0) {
            my $d = $n < 65536 ? substr($block, 0, $n) : $block;
            send_all($conn, $d) or return 0;
            $n -= length $d;
        }
        return 0;
    }

    if ($uri =~ m{^/upload}) {
        my $md = 0;
        my $sum = 0;
        my $len = read_body($conn, $req, sub { $sum = ($sum + unpack('%32C*', $_[0])) % 65536; });
        return respond($conn, $req, '200 OK', [], "len=$len sum=$sum chunked="
                       . ($req->{chunked_body} ? 1 : 0) . "\n");
    }

    my $body = read_body($conn, $req);

    if ($uri =~ m{^/chunked}) {
        send_all($conn, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                 . "5\r\nhello\r\n1;ext=1\r\n \r\n5\r\nworld\r\n0\r\nX-Trailer: 1\r\n\r\n");
        return 0;
    }

    if ($uri =~ m{^/close-delimited}) {
        send_all($conn, "HTTP/1.0 200 OK\r\n\r\nuntil the close");
        return 0;
    }

    if ($uri =~ m{^/interim}) {
        send_all($conn, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n");
        return respond($conn, $req, '200 OK', [], "final\n");
    }

    if ($uri =~ m{^/hop}) {
        return respond($conn, $req, '200 OK',
                       ['Keep-Alive: timeout=5', 'Connection: X-Listed', 'X-Listed: 1',
                        'Trailer: X-T', 'Upgrade: h2c', 'Proxy-Authenticate: Basic',
                        'X-Secret: s', 'Server: backend', 'X-Kept: k'], "hop\n");
    }

    if ($uri =~ m{/redirect(.*)$}) {
        my $to = $1 || '/x/target';
        return respond($conn, $req, '302 Found', ["Location: http://127.0.0.1:" . port(8081) . $to],
                       "moved\n");
    }

    if ($uri =~ m{^/status/(\d+)}) {
        return respond($conn, $req, "$1 Status", ['X-From: backend'], "backend says $1\n");
    }

    if ($uri =~ m{^/lastmod}) {
        return respond($conn, $req, '200 OK', ['Last-Modified: Sun, 01 Nov 2026 00:00:00 GMT',
                                               'Content-Type: text/x-test'], "lm\n");
    }

    return respond($conn, $req, '200 OK', ['Content-Type: text/plain', 'X-Backend: 8081'],
                   "$req->{line}\n" . join('', map { "$_\n" } @{$req->{lines}})
                   . "body:" . $body);
});

# --- the proxy ------------------------------------------------------------------

$t->write_conf(<<'END');
error_log logs/error.log info;
worker_processes 1;
events { }
http {
    log_format up '$uri $upstream_addr $upstream_status $proxy_host';
    access_log logs/access.log up;

    upstream backend {
        server 127.0.0.1:%%PORT_8081%%;
    }

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        server_name localhost;
        client_body_buffer_size 16k;
        client_max_body_size 0;

        location / {
            proxy_pass http://backend;
            add_header X-Up "$upstream_addr $upstream_status";
        }

        location /pre/ {
            proxy_pass http://127.0.0.1:%%PORT_8081%%/replaced/;
        }

        location /exact {
            proxy_pass http://127.0.0.1:%%PORT_8081%%/other;
        }

        location /rw/ {
            rewrite ^/rw/(.*)$ /rewritten/$1 break;
            proxy_pass http://backend;
        }

        location /headers/ {
            proxy_pass http://backend;
            proxy_set_header X-Custom "c-$request_method";
            proxy_set_header User-Agent "";
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        }

        location /noheaders/ {
            proxy_pass http://backend;
            proxy_pass_request_headers off;
        }

        location /hop {
            proxy_pass http://backend;
            proxy_hide_header X-Secret;
            proxy_pass_header Server;
        }

        location /v1/ {
            proxy_http_version 1.1;
            proxy_pass http://backend;
        }

        location /stream/ {
            proxy_http_version 1.1;
            proxy_request_buffering off;
            proxy_buffering off;
            proxy_pass http://backend/upload/;
        }

        location /stream10/ {
            proxy_request_buffering off;
            proxy_pass http://backend/upload/;
        }

        location /buffered/ {
            proxy_pass http://backend/upload/;
        }

        location /nobody/ {
            proxy_pass_request_body off;
            proxy_pass http://backend;
        }

        location /big-on/ {
            proxy_buffering on;
            proxy_pass http://backend/big/;
        }

        location /big-off/ {
            proxy_buffering off;
            proxy_pass http://backend/big/;
        }

        location /big-nofile/ {
            proxy_buffering on;
            proxy_max_temp_file_size 0;
            proxy_pass http://backend/big/;
        }

        location /loc/ {
            proxy_pass http://127.0.0.1:%%PORT_8081%%/x/;
        }

        location /red/ {
            proxy_pass http://backend;
            proxy_redirect http://127.0.0.1:%%PORT_8081%%/x/ /y/;
        }

        location /redoff/ {
            proxy_pass http://127.0.0.1:%%PORT_8081%%/x/;
            proxy_redirect off;
        }

        location /intercept/ {
            proxy_pass http://backend/status/;
            proxy_intercept_errors on;
            error_page 404 = /local404;
        }

        location /nointercept/ {
            proxy_pass http://backend/status/;
            error_page 404 = /local404;
        }

        location = /local404 {
            return 200 "intercepted\n";
        }

        location /var/ {
            set $target backend;
            if ($arg_to) {
                set $target $arg_to;
            }
            proxy_pass http://$target;
        }
    }
}
END

$t->plan(70);
$t->run();

my $H = "Host: localhost\r\n";

sub get
{
    my ($path, @headers) = @_;
    return http_parse(http_get($path, headers => \@headers));
}

# --- URI rules ---------------------------------------------------------------------

my $r = get('/a%20b/c?x=1&y=%2F');
is($r->{status}, 200, 'proxied GET');
like($r->{body}, qr{^GET /a%20b/c\?x=1&y=%2F HTTP/1\.0$}m,
     'no URI part: the client\'s URI passes unchanged');
like($r->{body}, qr/^Host: backend$/m, 'Host is $proxy_host by default');
like($r->{body}, qr/^Connection: close$/m, 'Connection: close by default');
is($r->{headers}{'x-backend'}, '8081', 'response field passed');
is($r->{headers}{'content-type'}, 'text/plain', 'Content-Type passed');
like($r->{headers}{'x-up'} // '', qr/^127\.0\.0\.1:\d+ 200$/, '$upstream_addr, $upstream_status');

$r = get('/pre/some/path?q=1');
like($r->{body}, qr{^GET /replaced/some/path\?q=1 HTTP/1\.0$}m,
     'a URI part replaces the location prefix, arguments kept');
like($r->{body}, qr/^Host: 127\.0\.0\.1:\d+$/m, '$proxy_host with the port');

$r = get('/exact');
like($r->{body}, qr{^GET /other HTTP/1\.0$}m, 'location replaced exactly');

$r = get('/rw/a%3Fb');
like($r->{body}, qr{^GET /rewritten/a%3Fb HTTP/1\.0$}m, 'a rewritten URI is sent escaped');

# --- request fields ----------------------------------------------------------------

$r = http_parse(http("GET /headers/x HTTP/1.1\r\n${H}User-Agent: ua\r\nKeep-Alive: 300\r\n"
                     . "TE: trailers\r\nConnection: close, X-Drop\r\nX-Drop: 1\r\n"
                     . "X-Keep: 2\r\nX-Forwarded-For: 10.0.0.1\r\n"
                     . "Proxy-Authorization: Basic x\r\nUpgrade: foo\r\n\r\n"));
like($r->{body}, qr/^X-Custom: c-GET$/m, 'proxy_set_header with a variable');
unlike($r->{body}, qr/^User-Agent:/mi, 'an empty proxy_set_header removes the field');
unlike($r->{body}, qr/^(?:Keep-Alive|TE|Proxy-Authorization|Upgrade):/mi,
       'hop-by-hop request fields dropped');
unlike($r->{body}, qr/^X-Drop:/mi, 'a field the Connection header lists is dropped');
like($r->{body}, qr/^X-Keep: 2$/m, 'other fields passed');
like($r->{body}, qr/^X-Forwarded-For: 10\.0\.0\.1, 127\.0\.0\.1$/m,
     '$proxy_add_x_forwarded_for');
like($r->{body}, qr/^Host: backend$/m, 'default Host kept beside proxy_set_header');

$r = get('/noheaders/x', 'X-Keep: 2');
unlike($r->{body}, qr/^X-Keep:/m, 'proxy_pass_request_headers off');
like($r->{body}, qr/^Host: backend$/m, 'configured fields still sent');

# --- response fields ---------------------------------------------------------------------

$r = get('/hop');
is($r->{status}, 200, 'hop-by-hop response');
ok(!exists $r->{headers}{'keep-alive'} && !exists $r->{headers}{trailer}
   && !exists $r->{headers}{upgrade} && !exists $r->{headers}{'proxy-authenticate'},
   'hop-by-hop response fields dropped');
ok(!exists $r->{headers}{'x-listed'}, 'a field the upstream\'s Connection lists is dropped');
ok(!exists $r->{headers}{'x-secret'}, 'proxy_hide_header');
is($r->{headers}{server}, 'backend', 'proxy_pass_header Server');
is($r->{headers}{'x-kept'}, 'k', 'ordinary field kept');

$r = get('/');
like($r->{headers}{server}, qr/^sluice/, 'the upstream Server is hidden by default');

# --- bodies --------------------------------------------------------------------------------

$r = http_parse(http("POST /buffered/ HTTP/1.1\r\n${H}Connection: close\r\n"
                     . "Content-Length: 5\r\n\r\nabcde"));
is($r->{body}, "len=5 sum=" . (unpack('%32C*', 'abcde') % 65536) . " chunked=0\n",
   'buffered Content-Length body');

my $chunks = "3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n";
$r = http_parse(http("POST /buffered/ HTTP/1.1\r\n${H}Connection: close\r\n"
                     . "Transfer-Encoding: chunked\r\n\r\n$chunks"));
like($r->{body}, qr/^len=5 .* chunked=0$/, 'buffered chunked body sent with Content-Length');

$r = http_parse(http("POST /stream/ HTTP/1.1\r\n${H}Connection: close\r\n"
                     . "Transfer-Encoding: chunked\r\n\r\n$chunks"));
like($r->{body}, qr/^len=5 .* chunked=1$/,
     'proxy_request_buffering off: chunked body streamed as chunks to HTTP/1.1');

$r = http_parse(http(["POST /stream/ HTTP/1.1\r\n${H}Connection: close\r\n"
                      . "Content-Length: 10\r\n\r\n01234", "56789"], sleep => 0.3));
like($r->{body}, qr/^len=10 .* chunked=0$/, 'streamed Content-Length body in two parts');

$r = http_parse(http("POST /stream10/ HTTP/1.1\r\n${H}Connection: close\r\n"
                     . "Transfer-Encoding: chunked\r\n\r\n$chunks"));
like($r->{body}, qr/^len=5 .* chunked=0$/, 'chunked body to an HTTP/1.0 upstream is buffered');

my $s = connect_raw();
$r = http_parse(http("POST /stream/ HTTP/1.1\r\n${H}Content-Length: 3\r\n\r\nxyz"
                     . "GET /status/201 HTTP/1.1\r\n${H}Connection: close\r\n\r\n", socket => $s));
like($r && $r->{body}, qr/^len=3 /, 'streamed body then a pipelined request: first');
$r = http_parse(read_response($s));
is($r && $r->{status}, 201, 'pipelined request after a streamed body: not part of the body');

$r = http_parse(http("POST /nobody/x HTTP/1.1\r\n${H}Connection: close\r\n"
                     . "Content-Length: 5\r\n\r\nabcde"));
like($r->{body}, qr/body:$/, 'proxy_pass_request_body off');

$r = get('/chunked');
is($r->{body}, 'hello world', 'chunked response decoded and passed');
is($r->{headers}{'transfer-encoding'}, 'chunked', 'chunked to an HTTP/1.1 client');

my $raw = http("GET /chunked HTTP/1.0\r\n$H\r\n");
$r = http_parse($raw);
is($r->{body}, 'hello world', 'HTTP/1.0 client: body delimited by the close');
ok(!exists $r->{headers}{'transfer-encoding'}, 'no chunks to an HTTP/1.0 client');

$r = get('/close-delimited');
is($r->{body}, 'until the close', 'body delimited by the upstream\'s close');

$r = http_parse(http("HEAD /big/100 HTTP/1.1\r\n${H}Connection: close\r\n\r\n"), head => 1);
is($r->{status}, 200, 'HEAD');
is($r->{headers}{'content-length'}, 100, 'HEAD keeps the upstream\'s Content-Length');

$r = get('/interim');
is($r->{status}, 200, '1xx responses skipped');
is($r->{body}, "final\n", 'final response after interim ones');

# keep-alive towards the client across proxied requests
$s = connect_raw();
$r = http_parse(http("GET /a HTTP/1.1\r\n$H\r\n", socket => $s));
is($r && $r->{headers}{connection}, 'keep-alive', 'client connection kept alive');
$r = http_parse(http("GET /chunked HTTP/1.1\r\n$H\r\n", socket => $s));
is($r && $r->{body}, 'hello world', 'second request on the same connection');
close $s;

# --- proxy_redirect --------------------------------------------------------------------

$r = get('/loc/redirect');
like($r->{headers}{location}, qr{^http://localhost(?::\d+)?/loc/target$},
     'proxy_redirect default: the proxy_pass URL becomes the location');
$r = get('/red/redirect/x/abc');
like($r->{headers}{location}, qr{^http://localhost(?::\d+)?/y/abc$}, 'proxy_redirect from to');
$r = get('/redoff/redirect');
like($r->{headers}{location}, qr{^http://127\.0\.0\.1:\d+/x/target$}, 'proxy_redirect off');

# --- intercept errors ----------------------------------------------------------------------

$r = get('/intercept/404');
is($r->{body}, "intercepted\n", 'proxy_intercept_errors: error_page answers');
$r = get('/nointercept/404');
is($r->{body}, "backend says 404\n", 'without proxy_intercept_errors the upstream answers');
is($r->{status}, 404, 'upstream status passed');
$r = get('/intercept/503');
is($r->{body}, "backend says 503\n", 'a status without an error_page is passed');

# --- variables in proxy_pass ------------------------------------------------------------

$r = get('/var/x');
like($r->{body}, qr{^GET /var/x HTTP/1\.0$}m, 'proxy_pass with a variable: an upstream group');
$r = get('/var/x?to=127.0.0.1:' . port(8081));
like($r->{body}, qr{^GET /var/x\?to=}m, 'proxy_pass with a variable: a literal address');
$r = get('/var/x?to=no.such.name.invalid');
is($r->{status}, 502, 'a name that is no group: 502, no DNS at request time');
like($t->error_log, qr/no resolver defined to resolve no\.such\.name\.invalid/,
     'and a log line');

# --- access log variables ------------------------------------------------------------------

$r = get('/lastmod');
is($r->{headers}{'last-modified'}, 'Sun, 01 Nov 2026 00:00:00 GMT', 'Last-Modified passed');
$r = http_parse(http_get('/lastmod', headers => ['If-Modified-Since: Sun, 01 Nov 2026 00:00:00 GMT']));
is($r->{status}, 304, 'conditional request answered from the upstream\'s Last-Modified');

sleep 0.2;
like($t->access_log // '', qr{^/a 127\.0\.0\.1:\d+ 200 backend$}m,
     'access log: $upstream_addr $upstream_status $proxy_host');

# --- large bodies, bounded memory ------------------------------------------------------

sub worker_pid
{
    my $master = $t->pid;
    for my $stat (glob '/proc/[0-9]*/stat') {
        open my $fh, '<', $stat or next;
        my $line = <$fh>;
        close $fh;
        next unless $line;
        my @f = split / /, ($line =~ /\)\s+(.*)/)[0];
        my ($pid) = $stat =~ m{/proc/(\d+)/};
        return $pid if $f[1] == $master;
    }
    return undef;
}

sub rss_kb
{
    my ($pid) = @_;
    open my $fh, '<', "/proc/$pid/status" or return 0;
    while (<$fh>) { return $1 if /^VmRSS:\s+(\d+)/; }
    return 0;
}

# Downloads n bytes from path, reading at the given pace; returns bytes received.
sub download
{
    my ($path, $n) = @_;
    my $s = connect_raw() or return -1;
    print {$s} "GET $path$n HTTP/1.1\r\n${H}Connection: close\r\n\r\n";
    my $got = 0;
    my $head = '';
    my $sel = IO::Select->new($s);
    my $deadline = time() + 300;
    while (time() < $deadline) {
        next unless $sel->can_read(1);
        my $k = sysread($s, my $buf, 1 << 20);
        last unless $k;
        if ($head !~ /\r\n\r\n/) {
            $head .= $buf;
            next unless $head =~ /\r\n\r\n/;
            $got = length($head) - (index($head, "\r\n\r\n") + 4);
            next;
        }
        $got += $k;
    }
    return $got;
}

my $worker = worker_pid();
ok($worker, 'worker found');
my $rss0 = rss_kb($worker);

for my $loc (qw(/big-on/ /big-off/ /big-nofile/)) {
    is(download($loc, $BIG), $BIG, "large download through $loc");
}

my $grow = rss_kb($worker) - $rss0;
cmp_ok($grow, '<', 32 * 1024, "worker memory grew by $grow KB after large downloads");

# upload through both request buffering modes
for my $loc (qw(/stream/ /buffered/)) {
    my $s = connect_raw();
    my $block = 'u' x 65536;
    print {$s} "POST $loc HTTP/1.1\r\n${H}Connection: close\r\nContent-Length: $BIG\r\n\r\n";
    my $left = $BIG;
    local $SIG{PIPE} = 'IGNORE';
    while ($left > 0) {
        my $d = $left < 65536 ? substr($block, 0, $left) : $block;
        syswrite($s, $d) == length $d or last;
        $left -= length $d;
    }
    my $resp = http_parse(read_response($s, timeout => 120));
    like($resp && $resp->{body}, qr/^len=$BIG /, "large upload through $loc");
}

$grow = rss_kb($worker) - $rss0;
cmp_ok($grow, '<', 32 * 1024, "worker memory grew by $grow KB after large uploads");

# a client that does not read stalls only itself
for my $loc (qw(/big-on/ /big-off/)) {
    my $slow = connect_raw();
    setsockopt($slow, SOL_SOCKET, SO_RCVBUF, 4096);
    print {$slow} "GET $loc$BIG HTTP/1.1\r\n${H}Connection: close\r\n\r\n";
    sleep 0.5;
    my $t0 = time();
    $r = get('/status/200');
    ok($r->{status} == 200 && time() - $t0 < 3, "a slow client ($loc) does not stall another");
    close $slow;
}
