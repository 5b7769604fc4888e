#!/usr/bin/perl

# t/07-rewrite.t: the rewrite module. return with text, with a redirect URL,
# and 444; rewrite with last, break, redirect and permanent (and the loop
# guard); set and if (string comparison, regex with captures, case-
# insensitive regex); error_page to a URI, with "=code" and "=", and to a URL;
# add_header with and without "always" when the headers module is built.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Sluice::Test qw(http_get http http_parse connect_raw is_closed);

my $t = Sluice::Test->new()->has(qw(http_rewrite));
my $hdr = $t->has_module('http_headers');
my $static = $t->has_module('http_static');

my $ah = $hdr ? 'add_header X-A 1;' : '';
my $ah404 = $hdr ? 'add_header X-A 1; add_header X-B 2 always;' : '';

$t->write_conf(<<"END");
error_log logs/error.log info;
events { }
http {
    server {
        listen 127.0.0.1:%%PORT_8080%%;
        server_name localhost;
        root %%PREFIX%%/html;

        location /text { return 200 "plain text\\n"; }
        location /code-only { return 403; }
        location /redir { return 301 http://example.com/new; }
        location /redir-rel { return 302 /other; }
        location /close { return 444; }
        location /target/ { return 200 "target \$uri args=\$args\\n"; }

        location /last/ { rewrite ^/last/(.*)\$ /target/\$1 last; return 200 "not reached\\n"; }
        location /brk/ { rewrite ^/brk/(.*)\$ /target/\$1 break; return 200 "not reached\\n"; }
        location /red/ { rewrite ^/red/(.*)\$ /target/\$1 redirect; }
        location /perm/ { rewrite ^/perm/(.*)\$ /target/\$1 permanent; }
        location /args { rewrite ^ /target/a?b=1 last; }
        location /nomatch/ { rewrite ^/zzz /target/ last; return 200 "no match\\n"; }
        location /loop { rewrite ^ /loop last; }

        location /set {
            set \$v "hello";
            set \$w "\$v world";
            if (\$v = hello) { return 200 "equal \$w\\n"; }
            return 200 "not equal\\n";
        }
        location /ifarg {
            if (\$arg_x = yes) { return 200 "x is yes\\n"; }
            if (\$arg_x != yes) { return 200 "x is not yes\\n"; }
        }
        location /ifre {
            if (\$http_x_foo ~ "^a(b)") { return 200 "capture \$1\\n"; }
            return 200 "no match\\n";
        }
        location /ifci {
            if (\$http_x_foo ~* "^abc\$") { return 200 "case-insensitive\\n"; }
            return 200 "no match\\n";
        }
        location /ifempty {
            if (\$http_x_foo) { return 200 "set\\n"; }
            return 200 "empty\\n";
        }

        location /ep/ { error_page 404 /custom.html; return 404; }
        location /ep2/ { error_page 404 =200 /custom.html; return 404; }
        location /ep3/ { error_page 403 = /target/from403; return 403; }
        location /ep4/ { error_page 404 http://example.com/nf; return 404; }
        location = /custom.html { return 200 "custom page\\n"; }

        location /ah { $ah return 200 "ah\\n"; }
        location /ah404 { $ah404 return 404; }
    }
    server {
        listen 127.0.0.1:%%PORT_8081%%;
        rewrite ^/old/(.*)\$ /new/\$1 permanent;
        rewrite ^/srvlast/(.*)\$ /new/\$1 last;
        location / { return 200 "server 2 \$uri\\n"; }
    }
}
END
$t->write_file('html/target/x', "static target\n");
# Workers started by root run as an unprivileged user: the prefix must be readable.
chmod 0755, $t->prefix;

$t->plan(47);
$t->run();

sub get { return http_parse(http_get(@_)) // {status => 0, body => '', headers => {}}; }

# --- return ----------------------------------------------------------------------

my $r = get('/text');
is($r->{status}, 200, 'return 200 text: status');
is($r->{body}, "plain text\n", 'return 200 text: body');
is($r->{headers}{'content-length'}, 11, 'return 200 text: Content-Length');

$r = get('/code-only');
is($r->{status}, 403, 'return 403: status');
like($r->{body}, qr/403/, 'return 403: default error page mentions 403');

$r = get('/redir');
is($r->{status}, 301, 'return 301 URL: status');
is($r->{headers}{location}, 'http://example.com/new', 'return 301 URL: Location');

$r = get('/redir-rel');
is($r->{status}, 302, 'return 302 /other: status');
like($r->{headers}{location} // '', qr{^(?:http://[^/]+)?/other$}, 'return 302: Location /other');

my $s = connect_raw();
my $raw = http("GET /close HTTP/1.1\r\nHost: localhost\r\n\r\n", socket => $s, timeout => 3);
ok(!defined $raw || $raw eq '', 'return 444: no response at all');
ok(is_closed($s, 3), 'return 444: connection closed');

# --- rewrite ------------------------------------------------------------------------

$r = get('/last/x');
is($r->{body}, "target /target/x args=\n", 'rewrite last: new location search, $uri rewritten');

$r = get('/brk/x');
isnt($r->{body}, "not reached\n", 'rewrite break: later rewrite directives skipped');
isnt($r->{body}, "target /target/x args=\n", 'rewrite break: no new location search');
SKIP: {
    skip 'no static module', 1 unless $static;
    is($r->{body}, "static target\n", 'rewrite break: file of the rewritten URI served here');
}

$r = get('/red/x');
is($r->{status}, 302, 'rewrite redirect: 302');
like($r->{headers}{location} // '', qr{/target/x$}, 'rewrite redirect: Location');

$r = get('/perm/x?q=1');
is($r->{status}, 301, 'rewrite permanent: 301');
like($r->{headers}{location} // '', qr{/target/x\?q=1$},
     'rewrite permanent: Location keeps the query string');

$r = get('/args?orig=1');
is($r->{body}, "target /target/a args=b=1&orig=1\n",
   'rewrite with arguments: new arguments first, original appended');

$r = get('/nomatch/y');
is($r->{body}, "no match\n", 'rewrite whose regex does not match: falls through');

$r = get('/loop');
is($r->{status}, 500, 'rewrite loop: 500 after the cycle limit');
like($t->error_log, qr/cycle/, 'rewrite loop: the cycle is logged');

$r = get('/old/a/b', port => 8081);
is($r->{status}, 301, 'server-level rewrite permanent: 301');
like($r->{headers}{location} // '', qr{/new/a/b$}, 'server-level rewrite: Location');
$r = get('/srvlast/c', port => 8081);
is($r->{body}, "server 2 /new/c\n", 'server-level rewrite last: location sees the new URI');

# --- set and if ------------------------------------------------------------------------

is(get('/set')->{body}, "equal hello world\n", 'set, set with a variable, if ($v = value)');
is(get('/ifarg?x=yes')->{body}, "x is yes\n", 'if ($arg_x = yes): true');
is(get('/ifarg?x=no')->{body}, "x is not yes\n", 'if ($arg_x != yes): true');
is(get('/ifre', headers => ['X-Foo: abc'])->{body}, "capture b\n",
   'if ($http_x_foo ~ "^a(b)"): $1 captured');
is(get('/ifre', headers => ['X-Foo: xab'])->{body}, "no match\n", 'if ~ regex: no match');
is(get('/ifre', headers => ['X-Foo: ABC'])->{body}, "no match\n", 'if ~ is case-sensitive');
is(get('/ifci', headers => ['X-Foo: ABC'])->{body}, "case-insensitive\n",
   'if ~* is case-insensitive');
is(get('/ifempty', headers => ['X-Foo: 1'])->{body}, "set\n", 'if ($var): non-empty is true');
is(get('/ifempty')->{body}, "empty\n", 'if ($var): empty is false');

# --- error_page ------------------------------------------------------------------------------

$r = get('/ep/x');
is($r->{status}, 404, 'error_page 404 /custom.html: status stays 404');
is($r->{body}, "custom page\n", 'error_page 404 /custom.html: body of the error page');

$r = get('/ep2/x');
is($r->{status}, 200, 'error_page 404 =200: status 200');
is($r->{body}, "custom page\n", 'error_page 404 =200: body of the error page');

$r = get('/ep3/x');
is($r->{status}, 200, 'error_page 403 = /uri: status of the target');
is($r->{body}, "target /target/from403 args=\n", 'error_page 403 = /uri: target body');

$r = get('/ep4/x');
is($r->{status}, 302, 'error_page to a URL: 302');
is($r->{headers}{location}, 'http://example.com/nf', 'error_page to a URL: Location');

# --- add_header ---------------------------------------------------------------------------------

SKIP: {
    skip 'no headers module', 3 unless $hdr;
    $r = get('/ah');
    is($r->{headers}{'x-a'}, '1', 'add_header X-A 1 on a 200');
    $r = get('/ah404');
    ok(!exists $r->{headers}{'x-a'}, 'add_header without always: absent on a 404');
    is($r->{headers}{'x-b'}, '2', 'add_header ... always: present on a 404');
}

unlike($t->error_log, qr/\[(?:alert|crit|emerg)\]|AddressSanitizer/,
       'no worker crash, alert, crit or emerg in the error log');
