#!/usr/bin/perl

# t/06-static.t: static files. root and index, alias, try_files, MIME types
# from conf/mime.types, a location "types" block and default_type,
# Last-Modified / If-Modified-Since, ETag / If-None-Match, byte ranges, HEAD,
# the redirect of a directory without its slash, and path traversal: a file
# outside the root exists, and no request may reach it.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Sluice::Test qw(http_get http http_parse);

my $t = Sluice::Test->new()->has(qw(http_static));
my $index = $t->has_module('http_index');

my $mime = Sluice::Test->read_file(Sluice::Test->root . '/conf/mime.types')
    // "types { text/html html; text/css css; }\n";
$t->write_file('conf/mime.types', $mime);

# Workers started by root run as an unprivileged user: the prefix must be readable.
chmod 0755, $t->prefix;
my $MTIME = 1600000000;    # Sun, 13 Sep 2020 12:26:40 GMT
my $INDEX = "<p>index</p>\n";
my %files = (
    'html/index.html' => $INDEX,
    'html/style.css' => "p { color: red; }\n",
    'html/data.unknownext' => "data\n",
    'html/noext' => "noext\n",
    'html/digits.txt' => "0123456789",
    'html/dir/index.html' => "<p>dir index</p>\n",
    'html/noindex/file.txt' => "x\n",
    'html/tf/real.txt' => "real\n",
    'html/tf/sub/index.html' => "tf sub index\n",
    'html/typed/a.spc' => "special\n",
    'html/typed/a.css' => "css in typed\n",
    'other/f.txt' => "alias file\n",
    'secret.txt' => "SECRET outside the root\n",
);
for my $f (sort keys %files) {
    my $p = $t->write_file($f, $files{$f});
    utime($MTIME, $MTIME, $p);
}

# try_files is probed apart so that its absence fails one assertion, not the file.
sub conf
{
    my ($try) = @_;
    my $tf = $try ? 'location /tf/ { try_files $uri $uri/ =404; }' : '';
    return <<"END";
error_log logs/error.log info;
events { }
http {
    include mime.types;
    default_type application/octet-stream;
    server {
        listen 127.0.0.1:%%PORT_8080%%;
        server_name localhost;
        root %%PREFIX%%/html;
        location / { }
        location /al/ { alias %%PREFIX%%/other/; }
        location /typed/ { types { text/x-special spc; } default_type text/x-default; }
        $tf
    }
}
END
}

$t->plan(61);

$t->write_conf(conf(1));
my ($code, $out) = $t->test_config();
my $has_try = $code == 0;
is($code, 0, 'configuration with try_files $uri $uri/ =404 accepted') or diag($out);
$t->write_conf(conf($has_try));
$t->run();

sub get { return http_parse(http_get(@_)) // {status => 0, body => '', headers => {}}; }
sub hdr { my ($r, $h) = @_; my $v = $r->{headers}{$h}; return ref $v ? $v->[-1] : $v; }

# --- files, types ---------------------------------------------------------------------

my $r = get('/index.html');
is($r->{status}, 200, '/index.html: 200');
is($r->{body}, $INDEX, '/index.html: content');
is(hdr($r, 'content-length'), length $INDEX, '/index.html: Content-Length');
like(hdr($r, 'content-type') // '', qr{^text/html\b}, '.html: text/html from mime.types');
is(hdr($r, 'last-modified'), 'Sun, 13 Sep 2020 12:26:40 GMT', 'Last-Modified from the mtime');
my $etag = hdr($r, 'etag') // '';
is($etag, sprintf('"%x-%x"', $MTIME, length $INDEX), 'ETag "mtime-size" in hex');
is(hdr($r, 'accept-ranges'), 'bytes', 'Accept-Ranges: bytes');

like(hdr(get('/style.css'), 'content-type') // '', qr{^text/css\b}, '.css: text/css');
is(hdr(get('/data.unknownext'), 'content-type'), 'application/octet-stream',
   'unknown extension: default_type');
is(hdr(get('/noext'), 'content-type'), 'application/octet-stream', 'no extension: default_type');
is(hdr(get('/typed/a.spc'), 'content-type'), 'text/x-special', 'location types block: its type');
is(hdr(get('/typed/a.css'), 'content-type'), 'text/x-default',
   'location types block replaces the inherited types: default_type of the location');

$r = get('/missing.html');
is($r->{status}, 404, 'missing file: 404');

$r = http_parse(http("POST /index.html HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1\r\n"
                     . "Connection: close\r\n\r\nx"));
is($r && $r->{status}, 405, 'POST to a static file: 405');

# --- index and directories ------------------------------------------------------------

SKIP: {
    skip 'no index module', 4 unless $index;
    $r = get('/');
    is($r->{status}, 200, '/: index.html served');
    is($r->{body}, $INDEX, '/: index.html content');
    is(get('/dir/')->{body}, "<p>dir index</p>\n", '/dir/: its index.html');
    is(get('/noindex/')->{status}, 403, 'directory without an index file: 403');
}

$r = get('/dir');
is($r->{status}, 301, 'directory without slash: 301');
like(hdr($r, 'location') // '', qr{^(?:http://[^/]+)?/dir/$},
     'directory without slash: Location /dir/');
$r = get('/dir?a=1');
like(hdr($r, 'location') // '', qr{/dir/\?a=1$}, 'directory redirect keeps the query string');

# --- alias and try_files ------------------------------------------------------------------

$r = get('/al/f.txt');
is($r->{status}, 200, 'alias: 200');
is($r->{body}, "alias file\n", 'alias: file from the aliased directory');
is(get('/al/missing')->{status}, 404, 'alias: missing file 404');

SKIP: {
    skip 'try_files not accepted', 5 unless $has_try;
    is(get('/tf/real.txt')->{body}, "real\n", 'try_files: $uri found');
    # As in nginx: "$uri/" finds the directory, which then gets the usual redirect to
    # its slash form; the index is served from there.
    like(hdr(get('/tf/sub'), 'location') // '', qr{/tf/sub/$},
         'try_files: $uri/ found a directory, 301 to its slash form');
    SKIP: {
        skip 'no index module', 1 unless $index;
        is(get('/tf/sub/')->{body}, "tf sub index\n", 'try_files: $uri/ with the slash, index');
    }
    is(get('/tf/nothing')->{status}, 404, 'try_files: =404 when nothing matches');
    like(get('/tf/nothing')->{body}, qr/404/, 'try_files =404: error page');
}

# --- conditional requests ----------------------------------------------------------------------

$r = get('/index.html', headers => ['If-Modified-Since: Sun, 13 Sep 2020 12:26:40 GMT']);
is($r->{status}, 304, 'If-Modified-Since equal to Last-Modified: 304');
is($r->{body}, '', '304: no body');
$r = get('/index.html', headers => ['If-Modified-Since: Mon, 01 Jan 1990 00:00:00 GMT']);
is($r->{status}, 200, 'If-Modified-Since in the past: 200');
$r = get('/index.html', headers => ['If-Modified-Since: garbage']);
is($r->{status}, 200, 'If-Modified-Since unparsable: 200');

$r = get('/index.html', headers => ["If-None-Match: $etag"]);
is($r->{status}, 304, 'If-None-Match with the ETag: 304');
is(hdr($r, 'etag'), $etag, '304 carries the ETag');
$r = get('/index.html', headers => ["If-None-Match: \"other\", $etag"]);
is($r->{status}, 304, 'If-None-Match list containing the ETag: 304');
$r = get('/index.html', headers => ["If-None-Match: W/$etag"]);
is($r->{status}, 304, 'If-None-Match weak ETag: 304 (weak comparison)');
$r = get('/index.html', headers => ['If-None-Match: *']);
is($r->{status}, 304, 'If-None-Match: *: 304');
$r = get('/index.html', headers => ['If-None-Match: "nope"']);
is($r->{status}, 200, 'If-None-Match with another ETag: 200');

# --- ranges ---------------------------------------------------------------------------------------

$r = get('/digits.txt', headers => ['Range: bytes=0-4']);
is($r->{status}, 206, 'Range bytes=0-4: 206');
is($r->{body}, '01234', 'Range bytes=0-4: five bytes');
is(hdr($r, 'content-range'), 'bytes 0-4/10', 'Range bytes=0-4: Content-Range');
is(hdr($r, 'content-length'), 5, 'Range bytes=0-4: Content-Length 5');

$r = get('/digits.txt', headers => ['Range: bytes=-3']);
is($r->{body}, '789', 'Range bytes=-3: last three bytes');
$r = get('/digits.txt', headers => ['Range: bytes=7-']);
is($r->{body}, '789', 'Range bytes=7-: to the end');
$r = get('/digits.txt', headers => ['Range: bytes=20-30']);
is($r->{status}, 416, 'Range beyond the end: 416');
is(hdr($r, 'content-range'), 'bytes */10', '416: Content-Range bytes */10');
$r = get('/digits.txt', headers => ['Range: lines=1-2']);
is($r->{status}, 200, 'Range in another unit: ignored, 200');

# --- HEAD -----------------------------------------------------------------------------------------

my $raw = http("HEAD /index.html HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
$r = http_parse($raw, head => 1);
is($r && $r->{status}, 200, 'HEAD: 200');
is($r && hdr($r, 'content-length'), length $INDEX, 'HEAD: Content-Length of the file');
is($r && $r->{rest}, '', 'HEAD: no body');

# --- path traversal -------------------------------------------------------------------------------

for my $path ('/../secret.txt', '/%2e%2e/secret.txt', '/..%2fsecret.txt', '/al/../../secret.txt',
              '/al/..%2f..%2fsecret.txt', '/../etc/passwd', '/%2e%2e/%2e%2e/etc/passwd',
              '/..%2f..%2fetc/passwd') {
    $r = get($path);
    ok(($r->{status} == 400 || $r->{status} == 404) && $r->{body} !~ /SECRET|root:/,
       "traversal $path: 400 or 404, nothing outside the root")
        or diag("status $r->{status}, body " . substr($r->{body}, 0, 80));
}

unlike($t->error_log, qr/\[(?:alert|crit|emerg)\]|AddressSanitizer/,
       'no worker crash, alert, crit or emerg in the error log');
