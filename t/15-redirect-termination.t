#!/usr/bin/perl

# t/15-redirect-termination.t: a request that ends abruptly (return 444, a
# client gone) inside an internal redirect, an error page or an index
# lookup is closed once, after the redirect unwinds: no crash, no double
# free, and the worker serves the next request. Also: an absolute-form
# target's host chooses the server, not the Host header (RFC 9112 3.2.2).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Sluice::Test qw(http http_get http_parse connect_raw is_closed);

my $t = Sluice::Test->new()->has(qw(http_rewrite http_index));

$t->write_file('html/index.html', "index\n");
$t->write_conf(<<'END');
error_log logs/error.log info;
events { }
http {
    access_log off;
    server {
        listen 127.0.0.1:%%PORT_8080%%;
        server_name a.test;
        root html;
        location /e { error_page 404 /gone; return 404; }
        location /gone { return 444; }
        location /n { error_page 404 = @gone; return 404; }
        location @gone { return 444; }
        location / { index index.html; }
        location = /index.html { return 444; }
        location /ok { return 200 "A $host $uri\n"; }
        location /admin { return 200 "A admin\n"; }
    }
    server {
        listen 127.0.0.1:%%PORT_8080%%;
        server_name b.test;
        location /admin { return 403; }
        location / { return 200 "B $host $uri\n"; }
    }
}
END

$t->plan(10);
$t->run();

for my $case (['/e', 'error_page to a 444 location'],
              ['/n', 'error_page to a named 444 location'],
              ['/', 'index redirect to a 444 location']) {
    my ($path, $name) = @$case;
    my $raw = http("GET $path HTTP/1.1\r\nHost: a.test\r\n\r\n");
    is($raw, '', "$name: closed without a response");
}

is(http_parse(http_get('/ok', host => 'a.test'))->{body}, "A a.test /ok\n",
   'the worker still serves after the terminations');
unlike($t->error_log, qr/exited on signal|AddressSanitizer|\[alert\]/,
       'no crash and no alert');

my $r = http_parse(http("GET http://a.test/admin HTTP/1.1\r\nHost: b.test\r\nConnection: close\r\n\r\n"));
is($r->{body}, "A admin\n", 'absolute-form: the target host chooses the server, not Host');
$r = http_parse(http("GET http://b.test/x HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n"));
is($r->{body}, "B b.test /x\n", 'absolute-form: $host is the target host');
$r = http_parse(http("GET http://B.TEST./x HTTP/1.1\r\nHost: zzz\r\nConnection: close\r\n\r\n"));
is($r->{body}, "B b.test /x\n", 'absolute-form host is lowercased and loses its trailing dot');
$r = http_parse(http("GET http://a..test/x HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n"));
is($r->{status}, 400, 'absolute-form: an invalid host is 400');
$r = http_parse(http_get('/ok', host => 'b.test'));
is($r->{body}, "B b.test /ok\n", 'Host still chooses the server for origin-form targets');
