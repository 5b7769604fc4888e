#!/usr/bin/perl

# t/01-config.t: the configuration file as the operator meets it. "sluice -t"
# accepts a good file and refuses a bad one with "file:line" and the bad
# token (unknown directive, wrong context, wrong argument count, bad values,
# unbalanced braces); a refused configuration starts nothing. include with
# a glob, -g global directives, and -T (dump, included files too).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Sluice::Test qw(http_get http_parse connect_raw);

my $t = Sluice::Test->new();
$t->plan(51);

my $conf = $t->prefix . 'conf/sluice.conf';

# A minimal valid configuration; the server block holds LINES (line 7 on).
sub conf_with
{
    my ($lines, %o) = @_;
    my $http = $o{http} // '';
    my $main = $o{main} // '';
    return <<"END";
error_log logs/error.log info;
$main
events { }
http {
    $http
    server {
        listen 127.0.0.1:%%PORT_8080%%;
$lines
        location / { }
    }
}
END
}

# Runs -t on TEXT; returns (exit code, output).
sub check
{
    my ($text, @args) = @_;
    $t->write_conf($text);
    return $t->test_config(args => [@args]);
}

# --- a good configuration -------------------------------------------------------

my ($code, $out) = check(conf_with("        server_name localhost;\n        root html;"));
is($code, 0, '-t on a good configuration: exit code 0');
like($out, qr/syntax is ok/, '-t: "syntax is ok"');
like($out, qr/test is successful/, '-t: "test is successful"');
like($out, qr/\Q$conf\E/, '-t: names the configuration file');
ok(!-e $t->prefix . 'logs/sluice.pid', '-t: no pid file written');

# --- unknown directive: file and line --------------------------------------------

my $typo = conf_with("        proxy_pas http://127.0.0.1:1;");
($code, $out) = check($typo);
is($code, 1, 'typo "proxy_pas": exit code 1');
like($out, qr/\[emerg\] unknown directive "proxy_pas" in \Q$conf\E:8\b/,
     'typo "proxy_pas": unknown directive with path and line 8');
unlike($out, qr/test is successful/, 'typo: not reported as successful');
like($out, qr/test failed/, 'typo: "test failed"');

# Starting with the same file fails and starts nothing.
$t->write_conf($typo);
my ($err, $exit) = $t->run_fail();
is($exit, 1, 'start with a typo: exit code 1');
like($err, qr/unknown directive "proxy_pas"/, 'start with a typo: reason on stderr');
ok(!-e $t->prefix . 'logs/sluice.pid', 'start with a typo: no pid file');
ok(!connect_raw(port => 8080, timeout => 1), 'start with a typo: port not listening');

# --- wrong context ------------------------------------------------------------------

($code, $out) = check(conf_with('', http => 'listen 127.0.0.1:%%PORT_8081%%;'));
is($code, 1, '"listen" at http level: exit code 1');
like($out, qr/"listen" directive is not allowed here in \Q$conf\E:5\b/,
     '"listen" at http level: "is not allowed here" at line 5');

($code, $out) = check(conf_with('        worker_processes 2;'));
is($code, 1, '"worker_processes" in a server: exit code 1');
like($out, qr/"worker_processes" directive is not allowed here/,
     '"worker_processes" in a server: "is not allowed here"');

($code, $out) = check("events { }\nlisten 80;\nhttp { }\n");
like($out, qr/"listen" directive is not allowed here in \Q$conf\E:2\b/,
     '"listen" at main level: "is not allowed here" at line 2');

# --- argument count --------------------------------------------------------------------

($code, $out) = check(conf_with('        root /a /b;'));
is($code, 1, '"root" with two arguments: exit code 1');
like($out, qr/invalid number of arguments in "root" directive in \Q$conf\E:8\b/,
     '"root" with two arguments: invalid number of arguments, line 8');

($code, $out) = check(conf_with('        server_name;'));
like($out, qr/invalid number of arguments in "server_name" directive/,
     '"server_name" without arguments: invalid number of arguments');

($code, $out) = check(conf_with("        location /a /b /c { }"));
like($out, qr/invalid number of arguments in "location" directive/,
     '"location" with three arguments: invalid number of arguments');

# --- bad values ----------------------------------------------------------------------------

($code, $out) = check(conf_with('        sendfile maybe;'));
is($code, 1, 'flag "sendfile maybe": exit code 1');
like($out, qr/invalid value "maybe" in "sendfile" directive/, 'flag "maybe": invalid value');

($code, $out) = check(conf_with('        client_max_body_size 10x;'));
is($code, 1, 'size "10x": exit code 1');
like($out, qr/invalid \w+ "10x" in "client_max_body_size" directive in \Q$conf\E:8\b/,
     'size "10x": invalid, with the value and line 8');

($code, $out) = check(conf_with('        keepalive_timeout 5q;'));
is($code, 1, 'time "5q": exit code 1');
like($out, qr/invalid \w+ "5q" in "keepalive_timeout" directive/, 'time "5q": invalid');

($code, $out) = check(conf_with('        keepalive_requests many;'));
like($out, qr/invalid \w+ "many" in "keepalive_requests" directive/,
     'number "many": invalid');

($code, $out) = check(conf_with('        lingering_close sometimes;'));
like($out, qr/invalid value "sometimes" in "lingering_close" directive/,
     'enum "sometimes": invalid value');

($code, $out) = check(conf_with('', main => 'worker_processes -3;'));
is($code, 1, 'worker_processes -3: exit code 1');

# --- syntax ---------------------------------------------------------------------------------

($code, $out) = check("events { }\nhttp {\n    server {\n        listen 127.0.0.1:1;\n    }\n");
is($code, 1, 'missing "}": exit code 1');
like($out, qr/unexpected end of file, expecting "}"/, 'missing "}": unexpected end of file');

($code, $out) = check("events { }\nhttp {\n}\n}\n");
is($code, 1, 'extra "}": exit code 1');
like($out, qr/unexpected "}" in \Q$conf\E:4\b/, 'extra "}": unexpected "}" at line 4');

($code, $out) = check("events { }\nhttp { server { listen 127.0.0.1:1 } }\n");
is($code, 1, 'missing ";": exit code 1');

($code, $out) = check("events { }\nhttp { server { server_name \"abc; } }\n");
is($code, 1, 'unbalanced quote: exit code 1');


# --- include with a glob -----------------------------------------------------------------

$t->write_file_expand('conf/sites/a.conf', <<'END');
# site a
server {
    listen 127.0.0.1:%%PORT_8081%%;
    server_name a.test;
}
END
$t->write_file_expand('conf/sites/b.conf', <<'END');
# site b
server {
    listen 127.0.0.1:%%PORT_8082%%;
    server_name b.test;
}
END
$t->write_file('conf/sites/c.conf.disabled', "this is not a configuration\n");

my $inc = conf_with('', http => 'include sites/*.conf;');
($code, $out) = check($inc);
is($code, 0, 'include sites/*.conf: -t succeeds');

($code, $out) = check($inc, '-T');
is($code, 0, '-T: exit code 0');
like($out, qr/# configuration file \Q$conf\E:/, '-T: dumps the main file with its name');
like($out, qr/include sites\/\*\.conf;/, '-T: main file content');
like($out, qr/# configuration file \S*sites\/a\.conf:.*# site a/s, '-T: dumps included a.conf');
like($out, qr/# configuration file \S*sites\/b\.conf:.*# site b/s, '-T: dumps included b.conf');
unlike($out, qr/this is not a configuration/, '-T: a file the glob does not match is absent');

# Both included servers listen.
$t->write_conf($inc);
$t->run(ports => [8080, 8081, 8082]);
for my $n (8081, 8082) {
    my $r = http_parse(http_get('/', port => $n, host => 'a.test'));
    ok($r && $r->{status}, "server included from the glob listens on placeholder $n");
}
$t->stop();

# An error in an included file names that file and its line.
$t->write_file('conf/sites/b.conf',
               "server {\n    listen 127.0.0.1:1;\n    bogus_directive on;\n}\n");
($code, $out) = check($inc);
like($out, qr/unknown directive "bogus_directive" in \S*sites\/b\.conf:3\b/,
     'error in an included file: its path and line');

# include of a missing file.
($code, $out) = check(conf_with('', http => 'include missing.conf;'));
is($code, 1, 'include of a missing file: exit code 1');

# --- -g -------------------------------------------------------------------------------------

($code, $out) = check(conf_with(''), '-g', 'worker_processes 1;');
is($code, 0, '-g "worker_processes 1;": accepted');

($code, $out) = check(conf_with(''), '-g', 'worker_procs 1;');
like($out, qr/unknown directive "worker_procs"/, '-g with a typo: unknown directive');

($code, $out) = check(conf_with('', main => 'worker_processes 1;'), '-g', 'worker_processes 2;');
like($out, qr/"worker_processes" directive is duplicate/,
     '-g repeating a directive of the file: "is duplicate"');
