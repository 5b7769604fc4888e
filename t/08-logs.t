#!/usr/bin/perl

# t/08-logs.t: the access log. A custom log_format with request variables,
# escape=default and escape=json, several access_log in one server (which
# replace the inherited one), access_log off in a location, the predefined
# "combined" format, and rejected requests (400) logged too.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use JSON::PP ();
use Test::More;
use Time::HiRes qw(sleep time);
use Sluice::Test qw(http_get http http_parse);

my $t = Sluice::Test->new()->has(qw(http_log http_rewrite));

$t->write_conf(<<'END');
error_log logs/error.log info;
events { }
http {
    log_format custom '$request|$status|$uri|$args|$arg_x|$http_user_agent|$request_time'
                      '|$request_method|$body_bytes_sent|$remote_addr|$server_port|$host';
    log_format js escape=json '{"ua":"$http_user_agent","uri":"$request_uri","st":$status}';
    log_format esc '$http_user_agent';

    access_log logs/access.log;

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        server_name localhost;
        access_log logs/custom.log custom;
        access_log logs/json.log js;
        access_log logs/esc.log esc;
        location / { return 200 "ok\n"; }
        location /nolog { access_log off; return 200 "nolog\n"; }
    }
    server {
        listen 127.0.0.1:%%PORT_8081%%;
        location / { return 200 "combined\n"; }
    }
}
END

$t->plan(22);
$t->run();

my $port = $t->port(8080);

# Waits (bounded) until log NAME has at least N lines; returns its lines.
sub lines
{
    my ($name, $n) = @_;
    my @l;
    my $deadline = time() + 3;
    while (1) {
        @l = split /\n/, ($t->access_log($name) // '');
        last if @l >= $n || time() > $deadline;
        sleep 0.05;
    }
    return @l;
}

# --- custom format with variables ----------------------------------------------------

my $r = http_parse(http_get('/path?x=1&y=2', headers => ['User-Agent: TestAgent/1.0']));
is($r && $r->{status}, 200, 'request served');
my @l = lines('custom.log', 1);
is(scalar @l, 1, 'custom.log: one line for one request');
my $want = '^GET /path\?x=1&y=2 HTTP/1\.1\|200\|/path\|x=1&y=2\|1\|TestAgent/1\.0\|'
           . "\\d+\\.\\d{3}\\|GET\\|3\\|127\\.0\\.0\\.1\\|$port\\|localhost\$";
like($l[0] // '', qr/$want/,
     'custom format: $request $status $uri $args $arg_x $http_user_agent $request_time '
     . '$request_method $body_bytes_sent $remote_addr $server_port $host');

http_get('/other');
@l = lines('custom.log', 2);
like($l[1] // '', qr{^GET /other HTTP/1\.1\|200\|/other\|-\|-\|-\|},
     'empty variables logged as "-"');

# --- escaping ---------------------------------------------------------------------------

http_get('/q', headers => ["User-Agent: a \"quoted\" \\ value"]);
@l = lines('esc.log', 3);
is($l[2] // '', 'a \x22quoted\x22 \x5C value', 'escape=default: quote and backslash as \xHH');

@l = lines('json.log', 3);
my $j = eval { JSON::PP->new->decode($l[2] // '') };
ok($j, 'escape=json: the line is valid JSON') or diag($l[2] // 'no line');
is($j && $j->{ua}, "a \"quoted\" \\ value", 'escape=json: value round-trips');
is($j && $j->{st}, 200, 'escape=json: number unquoted');
$j = eval { JSON::PP->new->decode((lines('json.log', 1))[0] // '') };
is($j && $j->{ua}, 'TestAgent/1.0', 'escape=json: plain value');
$j = eval { JSON::PP->new->decode((lines('json.log', 2))[1] // '') };
is($j && $j->{ua}, '', 'escape=json: empty variable is an empty string, not "-"');

# --- access_log off ----------------------------------------------------------------------

$r = http_parse(http_get('/nolog/a'));
is($r && $r->{body}, "nolog\n", '/nolog served');
http_get('/after');
@l = lines('custom.log', 4);
is(scalar(grep { m{/nolog} } @l), 0, 'access_log off: /nolog not in custom.log');
is(scalar(grep { m{/after} } @l), 1, 'access_log off: the next request is logged');
is(scalar(grep { m{/nolog} } lines('json.log', 4)), 0, 'access_log off: not in json.log either');

# --- inheritance and combined ------------------------------------------------------------------

http_get('/c', port => 8081, headers => ['User-Agent: UA2', 'Referer: http://r.example/']);
@l = lines('access.log', 1);
is(scalar @l, 1, 'access.log: only the request of the server that inherits it');
$want = '^127\.0\.0\.1 - - \[\d{2}/\w{3}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}\] '
        . '"GET /c HTTP/1\.1" 200 9 "http://r\.example/" "UA2"$';
like($l[0] // '', qr/$want/,
     'combined format');
http_get('/d', port => 8081);
@l = lines('access.log', 2);
like($l[1] // '', qr{"GET /d HTTP/1\.1" 200 9 "-" "-"$}, 'combined: absent headers as "-"');

# --- rejected requests ---------------------------------------------------------------------------

my $n = () = lines('custom.log', 4);
$r = http_parse(http("GET /bad HTTP/1.1\r\n\r\n"));
is($r && $r->{status}, 400, 'request without Host: 400');
@l = lines('custom.log', $n + 1);
is(scalar @l, $n + 1, 'rejected request: one more line in custom.log');
like($l[-1] // '', qr{^GET /bad HTTP/1\.1\|400\|}, 'rejected request: logged with 400');

$r = http_parse(http("GARBAGE\r\n\r\n"));
is($r && $r->{status}, 400, 'garbage request line: 400');
@l = lines('custom.log', $n + 2);
like($l[-1] // '', qr{\|400\|}, 'garbage request line: logged with 400');
