#!/usr/bin/perl

# t/03-routing.t: choosing the server (listen address, then server_name:
# exact, leading wildcard, trailing wildcard, regex with named captures,
# default_server) and the location ("=" exact, "^~", regexes in order,
# longest prefix, nested locations, named location through error_page).
# Each server and location answers its own name with return.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use IO::Socket::IP;
use Test::More;
use Sluice::Test qw(http_get http http_parse);

my $t = Sluice::Test->new()->has(qw(http_rewrite));

# IPv6 loopback only when this machine has it.
my $ipv6 = IO::Socket::IP->new(LocalHost => '::1', LocalPort => 0, Listen => 1) ? 1 : 0;
my $v6listen = $ipv6
    ? "server { listen [::1]:%%PORT_8084%%; location / { return 200 \"ipv6\\n\"; } }"
    : '';

$t->write_conf(<<"END");
error_log logs/error.log info;
events { }
http {
    server {
        listen 127.0.0.1:%%PORT_8080%%;
        server_name first.test;
        location / { return 200 "first\\n"; }
    }
    server {
        listen 127.0.0.1:%%PORT_8080%% default_server;
        server_name default.test;
        location / { return 200 "default\\n"; }
    }
    server {
        listen 127.0.0.1:%%PORT_8080%%;
        server_name exact.example.com alias.example.com;
        location / { return 200 "exact\\n"; }
    }
    server {
        listen 127.0.0.1:%%PORT_8080%%;
        server_name *.example.com;
        location / { return 200 "leading wildcard\\n"; }
    }
    server {
        listen 127.0.0.1:%%PORT_8080%%;
        server_name example.* www.example.*;
        location / { return 200 "trailing wildcard\\n"; }
    }
    server {
        listen 127.0.0.1:%%PORT_8080%%;
        server_name "~^(?<sub>.+)\\.example\\.org\$";
        location / { return 200 "regex \$sub\\n"; }
    }
    server {
        listen 127.0.0.1:%%PORT_8081%%;
        server_name port2.test;
        location / { return 200 "port2\\n"; }
    }
    server {
        listen 127.0.0.1:%%PORT_8081%%;
        server_name port2b.test;
        location / { return 200 "port2b\\n"; }
    }
    $v6listen
    server {
        listen 127.0.0.1:%%PORT_8083%%;
        server_name loc.test;

        location / { return 200 "prefix /\\n"; }
        location = /exact { return 200 "exact\\n"; }
        location /exact { return 200 "prefix exact\\n"; }
        location = / { return 200 "exact root\\n"; }

        location ^~ /static/ { return 200 "static stop\\n"; }
        location /plain/ { return 200 "plain\\n"; }
        location ~ \\.php\$ { return 200 "regex php\\n"; }
        location ~* \\.JPG\$ { return 200 "regex jpg\\n"; }

        location ~ ^/order/ { return 200 "first regex\\n"; }
        location ~ ^/order/x { return 200 "second regex\\n"; }

        location /a/ { return 200 "a\\n"; }
        location /a/b/ { return 200 "a/b\\n"; }
        location /a/b/c/ { return 200 "a/b/c\\n"; }

        location /n/ {
            location /n/inner/ { return 200 "nested inner\\n"; }
            location ~ \\.txt\$ { return 200 "nested regex\\n"; }
            return 200 "nested outer\\n";
        }

        location /fb/ {
            error_page 404 = \@fallback;
            return 404;
        }
        location \@fallback { return 200 "fallback \$uri\\n"; }
    }
}
END

$t->plan(40);
$t->run(ports => [8080, 8081, 8083]);

sub body
{
    my ($path, %o) = @_;
    my $r = http_parse(http_get($path, %o));
    return $r ? $r->{body} : 'no response';
}

sub srv { return body('/', host => $_[0]); }
sub loc { return body($_[0], port => 8083, host => 'loc.test'); }

# --- server_name ----------------------------------------------------------------

is(srv('exact.example.com'), "exact\n", 'exact name');
is(srv('alias.example.com'), "exact\n", 'second name of the same server');
is(srv('EXACT.Example.COM'), "exact\n", 'names compare case-insensitively');
is(srv('exact.example.com:' . $t->port(8080)), "exact\n", 'port in Host ignored');
is(srv('exact.example.com.'), "exact\n", 'trailing dot in Host ignored');
is(srv('foo.example.com'), "leading wildcard\n", '*.example.com matches foo.example.com');
is(srv('a.b.example.com'), "leading wildcard\n", '*.example.com matches a.b.example.com');
is(srv('www.example.com'), "leading wildcard\n",
   'leading wildcard beats trailing wildcard (www.example.*)');
is(srv('example.net'), "trailing wildcard\n", 'example.* matches example.net');
is(srv('www.example.org'), "trailing wildcard\n",
   'www.example.* beats the regex for www.example.org');
is(srv('shop.example.org'), "regex shop\n", 'regex server name, $sub capture in the body');
is(srv('a.b.example.org'), "regex a.b\n", 'regex capture with dots');
is(srv('unknown.test'), "default\n", 'unknown name: default_server');
is(body('/', host => 'first.test'), "first\n", 'first server by name, though not default');

my $r = http_parse(http("GET / HTTP/1.0\r\n\r\n"));
is($r && $r->{body}, "default\n", 'HTTP/1.0 without Host: default_server');

is(body('/', port => 8081, host => 'port2b.test'), "port2b\n", 'second port: its own names');
is(body('/', port => 8081, host => 'unknown.test'), "port2\n",
   'second port: unknown name goes to its first server');
is(body('/', port => 8081, host => 'exact.example.com'), "port2\n",
   'second port: names of the other port do not apply');

SKIP: {
    skip 'no IPv6 loopback', 1 unless $ipv6;
    my $got = '';
    for (1 .. 20) {
        $got = body('/', addr => '[::1]:' . $t->port(8084));
        last if $got eq "ipv6\n";
        select(undef, undef, undef, 0.1);
    }
    is($got, "ipv6\n", 'IPv6 [::1] listener answers');
}

# --- locations ------------------------------------------------------------------------

is(loc('/'), "exact root\n", '"= /" beats "/" for /');
is(loc('/other'), "prefix /\n", 'unmatched path: location /');
is(loc('/exact'), "exact\n", '"=" exact match beats the same prefix');
is(loc('/exactly'), "prefix exact\n", '"=" does not match a longer path');
is(loc('/exact?x=1'), "exact\n", '"=" matches without the query string');
is(loc('/static/a.php'), "static stop\n", '"^~" prefix stops the regex search');
is(loc('/plain/a.php'), "regex php\n", 'regex beats a plain prefix');
is(loc('/plain/a.html'), "plain\n", 'plain prefix when no regex matches');
is(loc('/x/photo.jpg'), "regex jpg\n", '"~*" matches lowercase');
is(loc('/x/photo.JpG'), "regex jpg\n", '"~*" matches mixed case');
is(loc('/x/a.PHP'), "prefix /\n", '"~" is case-sensitive');
is(loc('/order/x'), "first regex\n", 'regexes are tried in order: first match wins');
is(loc('/a/b/c/d'), "a/b/c\n", 'longest prefix wins (three candidates)');
is(loc('/a/b/x'), "a/b\n", 'longest prefix wins (two candidates)');
is(loc('/a/x'), "a\n", 'shortest prefix when only it matches');
is(loc('/n/inner/x'), "nested inner\n", 'nested prefix location');
is(loc('/n/other'), "nested outer\n", 'outer location when no nested one matches');
is(loc('/n/f.txt'), "nested regex\n", 'regex nested inside a prefix location');
is(loc('/fb/missing'), "fallback /fb/missing\n",
   'error_page 404 = @fallback: named location answers, $uri kept');

$r = http_parse(http_get('/fb/missing', port => 8083, host => 'loc.test'));
is($r && $r->{status}, 200, 'error_page "= @fallback": status from the named location');

unlike($t->error_log, qr/\[(?:alert|crit|emerg)\]|AddressSanitizer/,
       'no worker crash, alert, crit or emerg in the error log');
