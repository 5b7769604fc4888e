#!/usr/bin/perl

# t/11-headers-in.t: request header names nginx calls "invalid": legal
# tokens with bytes other than letters, digits and '-'. ignore_invalid_headers
# (on by default) drops them with an info line; underscores_in_headers lets
# '_' through; with ignore_invalid_headers off they are kept.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Sluice::Test qw(http_get http_parse);

my $t = Sluice::Test->new()->has(qw(http_rewrite));

$t->write_conf(<<'END');
error_log logs/error.log info;
events { }
http {
    access_log off;
    server {
        listen 127.0.0.1:%%PORT_8080%%;
        location / { return 200 "[$http_x_foo][$http_x_bar]\n"; }
    }
    server {
        listen 127.0.0.1:%%PORT_8081%%;
        underscores_in_headers on;
        location / { return 200 "[$http_x_foo][$http_x_bar]\n"; }
    }
    server {
        listen 127.0.0.1:%%PORT_8082%%;
        ignore_invalid_headers off;
        location / { return 200 "[$http_x_foo][$http_x_bar]\n"; }
    }
}
END

$t->plan(6);
$t->run();

my %h = (headers => ['X_Foo: under', 'X-Bar: dash']);

my $r = http_parse(http_get('/', %h));
is($r->{body}, "[][dash]\n", 'default: a name with "_" is ignored, a normal one kept');
like($t->error_log, qr/\[info\].*client sent invalid header: "X_Foo: under"/,
     'default: the ignored header is logged at info');

$r = http_parse(http_get('/', %h, port => 8081));
is($r->{body}, "[under][dash]\n", 'underscores_in_headers on: "_" names are kept');

$r = http_parse(http_get('/', %h, port => 8082));
is($r->{body}, "[under][dash]\n", 'ignore_invalid_headers off: unusual names are kept');

$r = http_parse(http_get('/', headers => ['X.Bar: dot']));
is($r->{status}, 200, 'a name with "." is a legal token: not a 400');
is($r->{body}, "[][]\n", 'default: the name with "." is ignored');
