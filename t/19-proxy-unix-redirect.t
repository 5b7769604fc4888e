#!/usr/bin/perl

# t/19-proxy-unix-redirect.t: two nginx behaviours of proxied locations.
#
# Unix-domain sockets as upstream addresses: "proxy_pass
# http://unix:/path:/uri", "proxy_pass http://unix:/path", with variables,
# and "server unix:/path weight=N" in an upstream block; $upstream_addr
# shows "unix:/path", a keep-alive pool reuses a unix connection, a missing
# socket is a 502 with nginx's error line, and "listen unix:" is refused
# with a clear error.
#
# auto_redirect: a request for a proxied prefix location's name without its
# trailing slash is answered 301 to the name with the slash (arguments
# kept, the Location made absolute like every redirect), unless a location
# is named exactly as the URI; a static location never does it.
#
# The backends are forking Perl servers listening on unix sockets in the
# test's prefix; clients talk to Sluice over loopback TCP.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use IO::Socket::UNIX;
use POSIX ();
use Socket qw(SOCK_STREAM);
use Test::More;
use Time::HiRes qw(sleep time);
use Sluice::Test qw(http http_get http_parse connect_raw read_response);
use Sluice::Backend qw(read_head read_body respond);

my $t = Sluice::Test->new()->has(qw(http_proxy http_headers http_rewrite
                                   http_upstream_keepalive));

my $prefix = $t->prefix;
my $sock1 = $prefix . 'b1.sock';
my $sock2 = $prefix . 'b2.sock';
my $nosock = $prefix . 'none.sock';

# --- the unix-socket backends -------------------------------------------------------

my %BACKENDS; # pid => 1

# A forking backend on a unix socket: every response names the backend, the
# number of the connection (counted by the listener) and the request's URI
# and Host field.
sub unix_backend
{
    my ($name, $path) = @_;
    unlink $path;
    my $ls = IO::Socket::UNIX->new(Type => SOCK_STREAM, Local => $path, Listen => 64)
        or die "$name: listen $path: $!";
    # the workers may run as another user (nobody when started as root): connect() needs write
    chmod 0777, $path or die "$name: chmod $path: $!";
    my $pid = fork();
    die "fork: $!" unless defined $pid;
    if ($pid) {
        close $ls;
        $BACKENDS{$pid} = 1;
        return $pid;
    }

    setpgrp(0, 0);
    $SIG{CHLD} = 'IGNORE';
    alarm(300);
    my $conns = 0;
    while (1) {
        my $c = $ls->accept() or next;
        $conns++;
        my $k = fork();
        if (defined $k && $k == 0) {
            close $ls;
            binmode $c;
            my $conn = {sock => $c, buf => ''};
            while (my $req = read_head($conn)) {
                read_body($conn, $req);
                my $keep = respond($conn, $req, '200 OK',
                                   ["X-Backend: $name", "X-Conn: $conns",
                                    'X-Host: ' . ($req->{h}{host} // '')],
                                   "$name $req->{uri}\n");
                last unless $keep;
            }
            close $c;
            POSIX::_exit(0);
        }
        close $c;
    }
}

sub stop_backends
{
    for my $pid (keys %BACKENDS) {
        kill 'KILL', -$pid;
        kill 'KILL', $pid;
        waitpid($pid, 0);
        delete $BACKENDS{$pid};
    }
}

END {
    local $?;
    stop_backends();
}

# --- configuration ----------------------------------------------------------------------

$t->write_conf(<<'END');
error_log logs/error.log info;
worker_processes 1;
events { }
http {
    log_format up '$uri $status $upstream_addr';
    access_log logs/access.log up;

    upstream weighted {
        server unix:%%PREFIX%%/b1.sock weight=2;
        server unix:%%PREFIX%%/b2.sock;
    }

    upstream pooled {
        server unix:%%PREFIX%%/b1.sock;
        keepalive 4;
    }

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        server_name redirect.test;

        add_header X-Upstream-Addr $upstream_addr;

        location /api/ {
            proxy_pass http://unix:%%PREFIX%%/b1.sock:/backend/;
        }

        location /plain/ {
            proxy_pass http://unix:%%PREFIX%%/b2.sock;
        }

        location /vars/ {
            set $sock %%PREFIX%%/b2.sock;
            proxy_pass http://unix:$sock:/computed;
        }

        location /weighted/ {
            proxy_pass http://weighted;
        }

        location /pooled/ {
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_pass http://pooled;
        }

        location /fresh/ {
            proxy_pass http://pooled;
        }

        location /missing/ {
            proxy_pass http://unix:%%PREFIX%%/none.sock;
        }

        # an exact location named as the URI wins over the redirect
        location = /exact {
            return 200 "exact\n";
        }
        location /exact/ {
            proxy_pass http://unix:%%PREFIX%%/b1.sock;
        }

        # so does a prefix location named as the URI
        location /pre {
            return 200 "prefix pre\n";
        }
        location /pre/ {
            proxy_pass http://unix:%%PREFIX%%/b1.sock;
        }

        # the redirect wins over a shorter prefix and over regexes
        location /short/ {
            return 200 "short\n";
        }
        location /short/api/ {
            proxy_pass http://unix:%%PREFIX%%/b1.sock;
        }
        location ~ ^/rx$ {
            return 200 "regex\n";
        }
        location /rx/ {
            proxy_pass http://unix:%%PREFIX%%/b1.sock;
        }

        # nested, and a name that needs escaping in Location
        location /outer/ {
            location /outer/inner/ {
                proxy_pass http://unix:%%PREFIX%%/b1.sock;
            }
        }
        location "/sp ace/" {
            proxy_pass http://unix:%%PREFIX%%/b1.sock;
        }

        # a static location: no redirect
        location /static/ {
            return 200 "static\n";
        }

        location / {
            return 200 "root\n";
        }
    }

    server {
        listen 127.0.0.1:%%PORT_8081%%;
        absolute_redirect off;

        location /rel/ {
            proxy_pass http://unix:%%PREFIX%%/b1.sock;
        }
    }

    server {
        listen 127.0.0.1:%%PORT_8082%%;
        server_name named.test;
        server_name_in_redirect on;
        port_in_redirect off;

        location /named/ {
            proxy_pass http://unix:%%PREFIX%%/b1.sock;
        }
    }
}
END

$t->plan(46);

unix_backend('b1', $sock1);
unix_backend('b2', $sock2);
$t->run();

my $port = $t->port(8080);

# --- auto_redirect ----------------------------------------------------------------------

my $r = http_parse(http_get('/api'));
is($r->{status}, 301, 'proxied /api/: /api is redirected');
is($r->{headers}{location}, "http://localhost:$port/api/", 'absolute Location with the slash');

$r = http_parse(http_get('/api?a=1&b=%20'));
is($r->{status}, 301, 'with arguments: redirected');
is($r->{headers}{location}, "http://localhost:$port/api/?a=1&b=%20", 'arguments kept');

$r = http_parse(http_get('/exact'));
is($r->{status}, 200, '"= /exact" beside a proxied /exact/: no redirect');
is($r->{body}, "exact\n", 'the exact location answers');

$r = http_parse(http_get('/pre'));
is($r->{body}, "prefix pre\n", 'a prefix location named as the URI wins over the redirect');

$r = http_parse(http_get('/short/api'));
is($r->{status}, 301, 'the redirect wins over a shorter prefix');
is($r->{headers}{location}, "http://localhost:$port/short/api/", 'to the longer name');

$r = http_parse(http_get('/rx'));
is($r->{status}, 301, 'the redirect wins over a matching regex (as nginx)');

$r = http_parse(http_get('/outer/inner'));
is($r->{status}, 301, 'nested proxied location: redirected');
is($r->{headers}{location}, "http://localhost:$port/outer/inner/", 'nested: Location');

$r = http_parse(http_get('/sp%20ace'));
is($r->{status}, 301, 'a name with a space: redirected');
is($r->{headers}{location}, "http://localhost:$port/sp%20ace/", 'the name is escaped');

$r = http_parse(http_get('/static'));
is($r->{status}, 200, 'a static location is not redirected');
is($r->{body}, "root\n", 'the request falls to "/"');

$r = http_parse(http_get('/apix'));
is($r->{body}, "root\n", 'only the name without its slash redirects');

$r = http_parse(http_get('/rel', port => 8081));
is($r->{status}, 301, 'absolute_redirect off: redirected');
is($r->{headers}{location}, '/rel/', 'absolute_redirect off: a relative Location');

$r = http_parse(http_get('/named', port => 8082, host => 'other.test'));
is($r->{headers}{location}, 'http://named.test/named/',
   'server_name_in_redirect on, port_in_redirect off');

$r = http_parse(http('POST /api HTTP/1.1' . "\r\nHost: localhost\r\nContent-Length: 5\r\n"
                     . "Connection: close\r\n\r\nhello"));
is($r->{status}, 301, 'POST with a body: redirected too');

# the body of a redirected request is read and dropped: the connection goes on
my $ka = connect_raw();
$r = http_parse(http("POST /api HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\n\r\nhello",
                     socket => $ka));
is($r->{status}, 301, 'keep-alive POST: redirected');
$r = http_parse(http("GET /static HTTP/1.1\r\nHost: localhost\r\n\r\n", socket => $ka));
is($r->{body}, "root\n", 'the next request on the connection is served');
close $ka;

# --- unix-domain upstreams ------------------------------------------------------------

$r = http_parse(http_get('/api/x?q=1'));
is($r->{status}, 200, 'proxy_pass http://unix:/path:/uri');
is($r->{body}, "b1 /backend/x?q=1\n", 'the URI part replaces the location');
is($r->{headers}{'x-host'}, 'localhost', 'Host sent is "localhost", as nginx');
is($r->{headers}{'x-upstream-addr'}, "unix:$sock1", '$upstream_addr is unix:/path');

$r = http_parse(http_get('/plain/y'));
is($r->{body}, "b2 /plain/y\n", 'proxy_pass http://unix:/path: the URI as it came');

$r = http_parse(http_get('/vars/z'));
is($r->{body}, "b2 /computed\n", 'proxy_pass with a variable in the socket path');
is($r->{headers}{'x-upstream-addr'}, "unix:$sock2", 'computed: $upstream_addr');

my %seen;
for (1 .. 6) {
    $r = http_parse(http_get('/weighted/w'));
    $seen{$r->{headers}{'x-backend'} // 'none'}++;
}
is($seen{b1}, 4, 'server unix: weight=2: two thirds of the requests');
is($seen{b2}, 2, 'server unix: the other third');

# keep-alive: two requests in a row share one backend connection
my $a = http_parse(http_get('/pooled/1'));
my $b = http_parse(http_get('/pooled/2'));
is($a->{status}, 200, 'pooled over a unix socket: answered');
ok(defined $a->{headers}{'x-conn'} && defined $b->{headers}{'x-conn'}
   && $a->{headers}{'x-conn'} eq $b->{headers}{'x-conn'},
   'keepalive pool: the second request reused the unix connection');

# without keep-alive (HTTP/1.0 to the upstream) every request gets a new one
$a = http_parse(http_get('/fresh/1'));
$b = http_parse(http_get('/fresh/2'));
ok(defined $a->{headers}{'x-conn'} && defined $b->{headers}{'x-conn'}
   && $a->{headers}{'x-conn'} ne $b->{headers}{'x-conn'},
   'without keep-alive: a new connection per request');

$r = http_parse(http_get('/missing/m'));
is($r->{status}, 502, 'a missing socket: 502');
my $enoent = qr/failed \(2: No such file or directory\) while connecting to upstream/;
like($t->error_log, qr/connect\(\) to unix:\Q$nosock\E $enoent/,
     'the error log names the socket, as nginx');
like($t->error_log, qr/upstream: "http:\/\/unix:\Q$nosock\E:\/missing\/m"/,
     'the error line\'s upstream: the socket, then the URI after ":"');

# the access log has the unix address too
my $deadline = time() + 10;
my $log = '';
while (time() < $deadline) {
    $log = $t->access_log // '';
    last if $log =~ m{^/missing/m }m;
    sleep 0.1;
}
like($log, qr{^/api/x 200 unix:\Q$sock1\E$}m, 'access log: $upstream_addr');

$t->stop();

# --- configuration errors -------------------------------------------------------------

sub conf_error
{
    my ($text) = @_;
    my $k = Sluice::Test->new();
    $k->write_conf($text);
    my ($code, $out) = $k->test_config();
    return ($code, $out);
}

my ($code, $out) = conf_error(<<'END');
events { }
http {
    server {
        listen unix:%%PREFIX%%/listen.sock;
        location / { return 200; }
    }
}
END
ok($code, 'listen unix: refused');
like($out, qr/unix domain sockets in "listen" \("unix:[^"]*"\) are not supported/,
     'listen unix: a clear error');

($code, $out) = conf_error(<<'END');
events { }
http {
    upstream u { server unix:; }
    server {
        listen 127.0.0.1:%%PORT_8090%%;
        location / { proxy_pass http://u; }
    }
}
END
ok($code, 'server unix: without a path refused');
like($out, qr/no path in the unix domain socket in upstream "unix:"/, 'the error names it');

($code, $out) = conf_error(<<'END');
events { }
http {
    server {
        listen 127.0.0.1:%%PORT_8090%%;
        location / { proxy_pass http://unix:/tmp/x:nouri; }
    }
}
END
ok($code, 'a URI part without "/" after a unix socket refused');

my $long = '/tmp/' . ('x' x 120);
($code, $out) = conf_error(<<"END");
events { }
http {
    server {
        listen 127.0.0.1:%%PORT_8090%%;
        location / { proxy_pass http://unix:$long; }
    }
}
END
like($out, qr/too long path in the unix domain socket/, 'a path longer than sun_path refused');

($code, $out) = conf_error(<<'END');
events { }
http {
    upstream u { server unix:%%PREFIX%%/b1.sock weight=3 max_fails=2; }
    server {
        listen 127.0.0.1:%%PORT_8090%%;
        location / { proxy_pass http://u; }
    }
}
END
is($code, 0, 'server unix:/path with parameters accepted') or diag($out);

stop_backends();
