#!/usr/bin/perl

# t/25-map.t: the map module. The WebSocket idiom (default and the '' key),
# caseless exact keys, "\" for a literal keyword, regular expressions in
# order after the exact keys (captures and named captures in the value,
# "~*" caseless), hostnames with "*.x", ".x" and "x.*" keys and a trailing
# dot, values and sources with variables, no default (not found), include
# of a map file, lazy evaluation and per-request caching against
# "volatile", map_hash_bucket_size, and the configuration errors with their
# file and line.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Sluice::Test qw(http_get http_parse);

my $t = Sluice::Test->new()->has(qw(http_map http_rewrite))->plan(52);
my $conf = $t->prefix . 'conf/sluice.conf';

# Runs -t on TEXT; returns (exit code, output).
sub check
{
    my ($text) = @_;
    $t->write_conf($text);
    return $t->test_config();
}

# A configuration whose http block holds LINES from line 4 on.
sub http_with
{
    my ($lines) = @_;
    return "error_log logs/error.log info;\nevents { }\nhttp {\n$lines\n"
           . "    server { listen 127.0.0.1:%%PORT_8080%%; location / { return 200 ok; } }\n}\n";
}

# --- configuration errors ----------------------------------------------------------------

my ($code, $out) = check(http_with(<<'END'));
    map $uri $m {
        default a;
        default b;
    }
END
is($code, 1, 'two defaults: -t fails');
like($out, qr/\[emerg\] duplicate default map parameter in \Q$conf\E:6\b/,
     'two defaults: "duplicate default map parameter" at line 6');

($code, $out) = check(http_with(<<'END'));
    map $uri $m {
        ~^/(a x;
    }
END
is($code, 1, 'bad regex: -t fails');
like($out, qr/\[emerg\] pcre2_compile\(\) failed: missing closing parenthesis in "\^\/\(a"/,
     'bad regex: the PCRE2 message and the pattern');
like($out, qr/pcre2_compile\(\) failed: .* in \Q$conf\E:5\b/, 'bad regex: file and line 5');

($code, $out) = check(http_with(<<'END'));
    map $uri $m {
        /a b c;
    }
END
like($out, qr/invalid number of the map parameters in \Q$conf\E:5\b/,
     'three words on a line: "invalid number of the map parameters" at line 5');

($code, $out) = check(http_with(<<'END'));
    map $uri $m {
        /a 1;
        /A 2;
    }
END
like($out, qr/conflicting parameter "\/A" in \Q$conf\E:6\b/,
     'same key in another case: "conflicting parameter" at line 6');

($code, $out) = check(http_with(<<'END'));
    map $http_host $m {
        hostnames;
        www.*.com 1;
    }
END
like($out, qr/invalid hostname or wildcard "www\.\*\.com" in \Q$conf\E:6\b/,
     'hostnames: a "*" in the middle is an invalid wildcard at line 6');

($code, $out) = check(http_with(<<'END'));
    map $uri m {
        default 1;
    }
END
like($out, qr/invalid variable name "m" in \Q$conf\E:4\b/,
     'a result without "$": "invalid variable name" at line 4');

($code, $out) = check(http_with(<<'END'));
    map $uri $m {
        default 1;
        /x { }
    }
END
like($out, qr/unexpected "\{" in \Q$conf\E:6\b/, 'a block inside map: unexpected "{" at line 6');

($code, $out) = check("events { }\nhttp {\n    server {\n        map \$uri \$m { default 1; }\n"
                      . "    }\n}\n");
like($out, qr/"map" directive is not allowed here in \Q$conf\E:4\b/,
     'map inside server: "is not allowed here" at line 4');

$t->write_file('conf/bad.map', "# a map file\n/a 1;\n/b 2 3;\n");
($code, $out) = check(http_with(<<'END'));
    map $uri $m {
        include bad.map;
    }
END
my $bad = $t->prefix . 'conf/bad.map';
like($out, qr/invalid number of the map parameters in \Q$bad\E:3\b/,
     'an error in an included map file names that file and its line 3');

my $long = 'k' x 100;
($code, $out) = check(http_with("    map \$uri \$m {\n        $long 1;\n    }"));
is($code, 1, 'a 100-byte key in 64-byte buckets: -t fails');
like($out, qr/could not build map_hash, you should increase map_hash_bucket_size: 64/,
     'a 100-byte key: names map_hash_bucket_size');

($code, $out) = check(http_with("    map_hash_bucket_size 128;\n    map \$uri \$m {\n"
                                . "        $long 1;\n    }"));
is($code, 0, 'map_hash_bucket_size 128 makes room for the 100-byte key');

# --- a running server ----------------------------------------------------------------------

$t->write_file('conf/colors.map', "# colors\nred    rouge;\ngreen  vert;\n");

$t->write_conf(<<'END');
error_log logs/error.log info;
events { }
http {
    map_hash_max_size 1024;
    map_hash_bucket_size 64;

    map $http_upgrade $connection_upgrade {
        default upgrade;
        ''      close;
    }

    map $http_x_key $exact {
        default        dflt;
        foo            foo-value;
        Bar            bar-value;
        \default       literal-default;
        re-5           exact-wins;
        ~^re-(\d+)$    "number $1";
        ~^re-          "second regex";
        ~*^ci-(?<word>[a-z]+)$ "word $word";
    }

    map $http_x_name $host_kind {
        hostnames;
        default        none;
        example.com    exact;
        *.example.com  head;
        .example.org   dotted;
        www.example.*  tail;
    }

    map "$http_x_a:$http_x_b" $pair {
        1:2            one-two;
        default        "other($http_x_a,$http_x_b)";
    }

    map $http_x_key $with_vars {
        default        "uri=$uri key=$http_x_key";
    }

    map $http_x_key $no_default {
        foo            bar;
    }

    map $http_x_color $color {
        include        colors.map;
        default        unknown;
    }

    map $exact $chained {
        foo-value      from-foo;
        default        "via $exact";
    }

    map $self_ref $self_ref {
        default        "[$self_ref]";
    }

    map $src $cached {
        a A;
        b B;
        default -;
    }

    map $src $fresh {
        volatile;
        a A;
        b B;
        default -;
    }

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        server_name localhost;

        location /upgrade { return 200 "$connection_upgrade\n"; }
        location /exact { return 200 "$exact\n"; }
        location /named { return 200 "$exact [$word]\n"; }
        location /host { return 200 "$host_kind\n"; }
        location /pair { return 200 "$pair\n"; }
        location /vars { return 200 "$with_vars\n"; }
        location /nodef { return 200 "[$no_default]\n"; }
        location /color { return 200 "$color\n"; }
        location /chained { return 200 "$chained\n"; }
        location /self { return 200 "$self_ref\n"; }
        location /cached {
            set $src a;
            set $first $cached;
            set $src b;
            return 200 "$first $cached\n";
        }
        location /fresh {
            set $src a;
            set $first $fresh;
            set $src b;
            return 200 "$first $fresh\n";
        }
    }
}
END

$t->run();

# GET path with extra header lines; returns the body (undef on failure).
sub body
{
    my ($path, @headers) = @_;
    my $r = http_parse(http_get($path, headers => [@headers]));
    return undef unless $r && $r->{status} == 200;
    return $r->{body};
}

is(body('/upgrade', 'Upgrade: websocket'), "upgrade\n", 'Upgrade: websocket gives "upgrade"');
is(body('/upgrade'), "close\n", 'no Upgrade header: the \'\' key gives "close"');

is(body('/exact', 'X-Key: foo'), "foo-value\n", 'exact key "foo"');
is(body('/exact', 'X-Key: FOO'), "foo-value\n", 'exact keys ignore case: "FOO"');
is(body('/exact', 'X-Key: bar'), "bar-value\n", 'key written "Bar" matches "bar"');
is(body('/exact', 'X-Key: nothing'), "dflt\n", 'no match: the default');
is(body('/exact'), "dflt\n", 'no header: the default');
is(body('/exact', 'X-Key: default'), "literal-default\n", '"\default" is the literal key');
is(body('/exact', 'X-Key: re-5'), "exact-wins\n", 'an exact key wins over a matching regex');
is(body('/exact', 'X-Key: re-42'), "number 42\n", 'regex with a capture: "$1" in the value');
is(body('/exact', 'X-Key: re-x'), "second regex\n", 'regexes are tried in order');
is(body('/exact', 'X-Key: RE-42'), "dflt\n", '~ is case-sensitive');
is(body('/exact', 'X-Key: CI-Hello'), "word Hello\n",
   '~* is caseless; a named capture in the value');
is(body('/named', 'X-Key: ci-abc'), "word abc [abc]\n",
   'a named capture is a variable after the map ran');

is(body('/host', 'X-Name: example.com'), "exact\n", 'hostnames: exact name');
is(body('/host', 'X-Name: EXAMPLE.com.'), "exact\n", 'hostnames: case and a trailing dot ignored');
is(body('/host', 'X-Name: a.b.example.com'), "head\n", 'hostnames: "*.example.com"');
is(body('/host', 'X-Name: example.org'), "dotted\n", 'hostnames: ".example.org" covers the name');
is(body('/host', 'X-Name: x.example.org'), "dotted\n", 'hostnames: ".example.org" covers below it');
is(body('/host', 'X-Name: www.example.net'), "tail\n", 'hostnames: "www.example.*"');
is(body('/host', 'X-Name: example.net'), "none\n", 'hostnames: no match gives the default');
is(body('/host', 'X-Name: xexample.com'), "none\n", 'hostnames: "*.example.com" needs the dot');

is(body('/pair', 'X-A: 1', 'X-B: 2'), "one-two\n", 'a source with two variables: "1:2"');
is(body('/pair', 'X-A: 1', 'X-B: 3'), "other(1,3)\n", 'a default with variables in it');

is(body('/vars/p', 'X-Key: k1'), "uri=/vars/p key=k1\n", 'a value with $uri and $http_x_key');
is(body('/nodef', 'X-Key: foo'), "[bar]\n", 'no default, a match');
is(body('/nodef', 'X-Key: zzz'), "[]\n", 'no default, no match: not found, empty');

is(body('/color', 'X-Color: green'), "vert\n", 'a key from an included map file');
is(body('/color', 'X-Color: RED'), "rouge\n", 'included keys ignore case too');
is(body('/color', 'X-Color: blue'), "unknown\n", 'a default after the include');

is(body('/chained', 'X-Key: foo'), "from-foo\n", 'a map of a map: matched');
is(body('/chained', 'X-Key: re-7'), "via number 7\n", 'a map of a map: default with its value');
is(body('/self'), "[]\n", 'a map that uses itself sees itself as empty instead of looping');

is(body('/cached'), "A A\n",
   'evaluated when first used ($src = a), then cached for the request');
is(body('/fresh'), "A B\n", 'volatile: evaluated again at each use');
is(body('/cached'), "A A\n", 'a second request computes its own value');

$t->stop();

unlike($t->error_log, qr/\[(?:alert|crit|emerg)\]|AddressSanitizer|runtime error/,
       'no alert, crit, emerg or sanitizer report in the error log');
