#!/usr/bin/perl

# t/10-static-files.t: static files (root, alias, directories, methods, HEAD, empty
# and large files), index, try_files, conditional requests (304, 412) and
# byte ranges (206, 416, If-Range, max_ranges), nginx's answers and log lines.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Sluice::Test qw(http_get http http_parse connect_raw);

my $t = Sluice::Test->new()
    ->has(qw(http_static http_index http_try_files http_range_filter
             http_not_modified_filter http_rewrite));

my $p = $t->prefix;

# workers may run as an unprivileged user: the files must be reachable
chmod 0755, $p;

$t->write_conf(<<"END");
error_log logs/error.log info;
events { }
http {
    default_type application/octet-stream;
    types { text/plain txt; text/html html; }
    server {
        listen 127.0.0.1:%%PORT_8080%%;
        root ${p}html;
        location / { }
        location /x/ { alias ${p}data/; }
        location /tf/ { try_files \$uri \$uri/ /fallback.html; }
        location /tfargs/ { try_files \$uri /echo/x?from=\$uri; }
        location /tfplain/ { try_files \$uri /echo/plain; }
        location /tfcode/ { try_files \$uri =418; }
        location /tfnamed/ { try_files \$uri \@named; }
        location /tfalias/ { alias ${p}data/; try_files \$uri =404; }
        location \@named { return 200 "named \$uri\\n"; }
        location /echo/ { return 200 "\$uri?\$args\\n"; }
        location /loop/ { try_files \$uri /loop/again; }
        location /before/ { if_modified_since before; alias ${p}html/; }
        location /noims/ { if_modified_since off; alias ${p}html/; }
        location /norange/ { max_ranges 0; alias ${p}html/; }
        location /nosendfile/ { sendfile off; alias ${p}html/; }
        location /idx/ { alias ${p}html/; index nope.html file.txt; }
        location /abs/ { alias ${p}html/dir/; index nope.html /file.txt; }
        location /idxvar/ { set \$i file.txt; alias ${p}html/; index nope.html \$i; }
        location /quiet/ { log_not_found off; alias ${p}html/; }
    }
}
END

$t->write_file('html/file.txt', "hello world 0123456789\n");
$t->write_file('html/index.html', "<p>index</p>\n");
$t->write_file('html/dir/index.html', "dir index\n");
$t->write_file('html/fallback.html', "fallback\n");
$t->write_file('html/empty.txt', '');
$t->write_file('html/noidx/f.txt', 'f');
$t->write_file('html/tf/f.txt', "tf\n");
$t->write_file('html/tf/d/index.html', "tf dir\n");
$t->write_file('data/a.txt', "aliased\n");
$t->write_file('data/index.html', "data index\n");
my $big = join('', map { sprintf("%07d\n", $_) } 0 .. 131071);    # 1 MB
$t->write_file('html/big.txt', $big);
# either side of the size up to which a file leaves with the header (1 KB)
my %edge = map { $_ => join('', map { chr(32 + ($_ * 7) % 95) } 1 .. $_) } 1024, 1025;
$t->write_file("html/edge$_.txt", $edge{$_}) for keys %edge;

$t->plan(76);
$t->run();

sub get { my ($uri, @h) = @_; return http_parse(http_get($uri, headers => \@h)); }
sub req {
    my ($line, @h) = @_;
    my $hdr = join('', map { "$_\r\n" } @h);
    my $head = $line =~ /^HEAD / ? 1 : 0;
    return http_parse(http("$line HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n$hdr\r\n"),
                      head => $head);
}

# --- files, directories, methods -----------------------------------------------------

my $r = get('/file.txt');
is($r->{status}, 200, 'file: 200');
is($r->{body}, "hello world 0123456789\n", 'file: body');
is($r->{headers}{'content-type'}, 'text/plain', 'file: type from extension');
is($r->{headers}{'content-length'}, 23, 'file: Content-Length');
like($r->{headers}{'etag'} // '', qr/^"[0-9a-f]+-17"$/, 'file: ETag mtime-size in hex');
ok($r->{headers}{'last-modified'}, 'file: Last-Modified');
is($r->{headers}{'accept-ranges'}, 'bytes', 'file: Accept-Ranges');
my $etag = $r->{headers}{'etag'};
my $lm = $r->{headers}{'last-modified'};

$r = get('/');
is($r->{body}, "<p>index</p>\n", 'index.html for /');
$r = get('/dir');
is($r->{status}, 301, 'directory without slash: 301');
like($r->{headers}{'location'} // '', qr{^http://[^/]+/dir/$}, 'directory: Location with slash');
$r = get('/dir?a=1');
like($r->{headers}{'location'} // '', qr{/dir/\?a=1$}, 'directory: Location keeps args');
is(get('/dir/')->{body}, "dir index\n", 'dir/ index');

$r = get('/nope.txt');
is($r->{status}, 404, 'missing file: 404');
like($t->error_log, qr{open\(\) "\Q${p}\Ehtml/nope\.txt" failed \(2: No such file or directory\)},
     'missing file: nginx log line');
get('/quiet/nope2.txt');
unlike($t->error_log, qr/nope2/, 'log_not_found off: no log line');

is(req('POST /file.txt')->{status}, 405, 'POST to a file: 405');
is(req('PUT /file.txt')->{status}, 405, 'PUT: 405');
is(req('POST /dir')->{status}, 301, 'POST to a directory: still the 301');
is(req('POST /nope.txt')->{status}, 404, 'POST to a missing file: 404');

$r = req('HEAD /file.txt');
is($r->{status}, 200, 'HEAD: 200');
is($r->{headers}{'content-length'}, 23, 'HEAD: Content-Length of the file');
is($r->{body} // '', '', 'HEAD: no body');

$r = get('/empty.txt');
is($r->{status}, 200, 'empty file: 200');
is($r->{headers}{'content-length'}, 0, 'empty file: Content-Length 0');

$r = get('/big.txt');
ok($r->{body} eq $big, 'large file: every byte');
$r = get('/nosendfile/big.txt');
ok($r->{body} eq $big, 'sendfile off: every byte');

is(get('/x/a.txt')->{body}, "aliased\n", 'alias: file');
is(get('/x/')->{body}, "data index\n", 'alias: index');

# --- index --------------------------------------------------------------------------

is(get('/noidx/')->{status}, 403, 'no index file: 403');
like($t->error_log, qr{directory index of "/noidx/" is forbidden}, 'no index: log line');
is(get('/missing/')->{status}, 404, 'missing directory: 404');
like($t->error_log, qr{"\Q${p}\Ehtml/missing/index\.html" is not found \(2: No such file},
     'missing directory: nginx log line');
is(get('/idx/')->{body}, "hello world 0123456789\n", 'index: second name when the first is missing');
is(get('/abs/')->{body}, "hello world 0123456789\n", 'index: absolute URI last');
is(get('/idxvar/')->{body}, "hello world 0123456789\n", 'index: with a variable');

# --- try_files -----------------------------------------------------------------------

is(get('/tf/f.txt')->{body}, "tf\n", 'try_files: file');
is(get('/tf/d')->{status}, 301, 'try_files: $uri/ matches a directory, static redirects');
is(get('/tf/nothing')->{body}, "fallback\n", 'try_files: fallback URI');
is(get('/tfargs/zz?q=1')->{body}, "/echo/x?from=/tfargs/zz\n", 'try_files: args after ?');
is(get('/tfplain/zz?q=1')->{body}, "/echo/plain?\n", 'try_files: no ? drops the args');
is(get('/tfcode/zz')->{status}, 418, 'try_files: =code');
is(get('/tfnamed/zz')->{body}, "named /tfnamed/zz\n", 'try_files: @named');
is(get('/tfalias/a.txt')->{body}, "aliased\n", 'try_files with alias: file');
is(get('/tfalias/none')->{status}, 404, 'try_files with alias: =404');
is(get('/loop/x')->{status}, 500, 'try_files: redirection cycle is a 500');
like($t->error_log, qr/rewrite or internal redirection cycle/, 'cycle: log line');

# --- conditional requests -----------------------------------------------------------

$r = get('/file.txt', "If-Modified-Since: $lm");
is($r->{status}, 304, 'If-Modified-Since exact: 304');
is($r->{body} // '', '', '304: no body');
ok(!defined $r->{headers}{'content-length'}, '304: no Content-Length');
is($r->{headers}{'etag'}, $etag, '304: ETag kept');
is(get('/file.txt', 'If-Modified-Since: Mon, 01 Jan 2035 00:00:00 GMT')->{status}, 200,
   'If-Modified-Since later, exact mode: 200');
is(get('/before/file.txt', 'If-Modified-Since: Mon, 01 Jan 2035 00:00:00 GMT')->{status}, 304,
   'if_modified_since before: later date is 304');
is(get('/noims/file.txt', "If-Modified-Since: $lm")->{status}, 200, 'if_modified_since off: 200');
is(get('/file.txt', "If-None-Match: $etag")->{status}, 304, 'If-None-Match: 304');
is(get('/file.txt', "If-None-Match: \"x\", W/$etag")->{status}, 304, 'If-None-Match: weak in list');
is(get('/file.txt', 'If-None-Match: *')->{status}, 304, 'If-None-Match: *');
is(get('/file.txt', 'If-None-Match: "other"')->{status}, 200, 'If-None-Match other: 200');
is(get('/file.txt', 'If-Match: "other"')->{status}, 412, 'If-Match other: 412');
is(get('/file.txt', "If-Match: $etag")->{status}, 200, 'If-Match same: 200');
is(get('/file.txt', 'If-Unmodified-Since: Thu, 01 Jan 1970 00:00:00 GMT')->{status}, 412,
   'If-Unmodified-Since earlier: 412');

# --- ranges --------------------------------------------------------------------------

$r = get('/file.txt', 'Range: bytes=0-4');
is($r->{status}, 206, 'range: 206');
is($r->{body}, 'hello', 'range: body');
is($r->{headers}{'content-range'}, 'bytes 0-4/23', 'range: Content-Range');
is(get('/file.txt', 'Range: bytes=-5')->{body}, "6789\n", 'suffix range');
is(get('/file.txt', 'Range: bytes=18-')->{body}, "6789\n", 'open range');
$r = get('/file.txt', 'Range: bytes=100-');
is($r->{status}, 416, 'unsatisfiable: 416');
is($r->{headers}{'content-range'}, 'bytes */23', 'unsatisfiable: Content-Range');
$r = get('/file.txt', 'Range: bytes=0-1,5-6');
is($r->{status}, 200, 'several ranges: the whole 200 (no multipart)');
is(get('/norange/file.txt', 'Range: bytes=0-4')->{status}, 200, 'max_ranges 0: 200');
is(get('/file.txt', 'Range: bytes=0-1', "If-Range: $etag")->{status}, 206, 'If-Range etag: 206');
is(get('/file.txt', 'Range: bytes=0-1', 'If-Range: "old"')->{status}, 200, 'If-Range other: 200');
is(get('/big.txt', 'Range: bytes=524288-524295')->{body}, "0065536\n", 'range in a large file');

for my $n (1024, 1025) {
    $r = get("/edge$n.txt");
    ok($r->{status} == 200 && $r->{headers}{'content-length'} == $n && $r->{body} eq $edge{$n},
       "a $n-byte file arrives whole");
}
is(get('/edge1024.txt', 'Range: bytes=1020-')->{body}, substr($edge{1024}, 1020),
   'a range of a small file');

# --- keep-alive after error answers -------------------------------------------------

my $s = connect_raw();
my $ok = 1;
for my $h ('If-Match: "x"', 'Range: bytes=999-', 'X: y') {
    my $one = http_parse(http("GET /file.txt HTTP/1.1\r\nHost: localhost\r\n$h\r\n\r\n",
                              socket => $s));
    $ok = 0 unless $one && !$one->{incomplete};
}
ok($ok, '412, 416 then 200 on one connection');
close $s;
