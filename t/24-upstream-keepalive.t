#!/usr/bin/perl

# t/24-upstream-keepalive.t: the per-worker cache of idle upstream
# connections ("keepalive N" in an upstream block). Perl backends answer
# with their name, the number of the connection the request came on and
# the request's number on it, and record every connection they see open
# and close in a file, so the test sees what Sluice does with its side of
# each connection: reuse, keepalive_requests, keepalive_timeout, an
# upstream that closes an idle connection, "Connection: close" from the
# upstream, and the bound N (the least recently used connection closes).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use IO::Select;
use IO::Socket::IP;
use Test::More;
use Time::HiRes qw(sleep time);
use Sluice::Test qw(http_get http_parse);
use Sluice::Backend ();

my $t = Sluice::Test->new()->has(qw(http_proxy http_upstream_keepalive));

$t->write_conf(<<'END');
error_log logs/error.log info;
worker_processes 1;
events { }
http {
    access_log off;

    upstream cached {
        server 127.0.0.1:%%PORT_9001%%;
        keepalive 4;
    }

    upstream capped {
        keepalive 4;
        keepalive_requests 3;
        server 127.0.0.1:%%PORT_9002%%;
    }

    upstream brief {
        server 127.0.0.1:%%PORT_9003%%;
        keepalive 4;
        keepalive_timeout 1s;
    }

    upstream small {
        server 127.0.0.1:%%PORT_9004%%;
        server 127.0.0.1:%%PORT_9005%%;
        keepalive 1;
    }

    upstream roomy {
        keepalive 2;
        least_conn;
        server 127.0.0.1:%%PORT_9006%%;
        server 127.0.0.1:%%PORT_9007%%;
    }

    upstream uncached {
        server 127.0.0.1:%%PORT_9008%%;
    }

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        server_name localhost;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_read_timeout 5s;

        location /cached/ { proxy_pass http://cached; }
        location /capped/ { proxy_pass http://capped; }
        location /brief/ { proxy_pass http://brief; }
        location /small/ { proxy_pass http://small; }
        location /roomy/ { proxy_pass http://roomy; }
        location /uncached/ { proxy_pass http://uncached; }
    }
}
END

$t->plan(18);

# --- backends -----------------------------------------------------------------------

my %BACKEND; # name => pid

# Answers "NAME CONN REQ"; /close/ answers with "Connection: close" and
# closes, /bye/ answers keep-alive and closes 0.2 s later (an upstream
# dropping an idle connection). Records "open CONN" / "close CONN" lines in
# logs/backend-NAME.
sub backend
{
    my ($name, $n) = @_;
    my $record = $t->prefix . "logs/backend-$name";
    my $note = sub {
        open my $fh, '>>', $record or return;
        print {$fh} "@_\n";
        close $fh;
    };
    my (%id, %reqs, %bye);
    my $conns = 0;
    return $BACKEND{$name} = Sluice::Backend::backend($n, name => "backend $name", select => {
        open => sub {
            my ($srv, $c) = @_;
            $id{$c} = ++$conns;
            $reqs{$c} = 0;
            $note->("open $id{$c}");
        },
        eof => sub {
            my ($srv, $s) = @_;
            $note->("close $id{$s}");
            delete $bye{$s};
        },
        request => sub {
            my ($srv, $s, $method, $path) = @_;
            my $body = "$name $id{$s} " . ++$reqs{$s};
            my $close = $path =~ m{/close/};
            syswrite($s, "HTTP/1.1 200 OK\r\nContent-Length: " . length($body)
                         . ($close ? "\r\nConnection: close" : '') . "\r\n\r\n$body");
            if ($close) {
                $note->("close $id{$s}");
                $srv->close($s);
                return;
            }
            $bye{$s} = [$s, time() + 0.2] if $path =~ m{/bye/};
        },
        tick => sub {
            my ($srv) = @_;
            for my $k (keys %bye) {
                my ($s, $at) = @{$bye{$k}};
                next if $at > time();
                delete $bye{$k};
                $note->("close $id{$s}");
                $srv->close($s);
            }
        },
    });
}

backend($_->[0], $_->[1]) for [cached => 9001], [capped => 9002], [brief => 9003],
    [s1 => 9004], [s2 => 9005], [r1 => 9006], [r2 => 9007], [plain => 9008];

$t->run();

sub body
{
    my ($path) = @_;
    my $r = http_parse(http_get($path));
    return $r ? ($r->{status} == 200 ? $r->{body} : "status $r->{status}") : 'no response';
}

sub bodies
{
    my ($path, $n) = @_;
    return join ', ', map { body($path) } 1 .. $n;
}

sub record
{
    my ($name) = @_;
    return $t->read_file("logs/backend-$name") // '';
}

# Waits (bounded) until the backend's record matches re.
sub wait_record
{
    my ($name, $re) = @_;
    my $deadline = time() + 5;
    while (time() < $deadline) {
        return 1 if record($name) =~ $re;
        sleep(0.05);
    }
    return 0;
}

# --- reuse --------------------------------------------------------------------------

is(bodies('/cached/x', 5), 'cached 1 1, cached 1 2, cached 1 3, cached 1 4, cached 1 5',
   'five requests, one upstream connection');
is(record('cached'), "open 1\n", 'the backend saw one connection, still open');

is(body('/cached/close/x'), 'cached 1 6', 'the upstream says Connection: close');
is(body('/cached/x'), 'cached 2 1', 'the next request opens a new connection');

is(body('/cached/bye/x'), 'cached 2 2', 'answered, then the upstream drops the idle connection');
ok(wait_record('cached', qr/close 2\n/), 'the backend closed it');
is(body('/cached/x'), 'cached 3 1', 'a fresh connection, no error to the client');
unlike($t->error_log, qr/prematurely closed|\[error\].*cached/,
       'the dropped idle connection was never used');

# --- keepalive_requests -------------------------------------------------------------

is(bodies('/capped/x', 7), 'capped 1 1, capped 1 2, capped 1 3, capped 2 1, capped 2 2, '
   . 'capped 2 3, capped 3 1', 'keepalive_requests 3: a new connection every three requests');
ok(wait_record('capped', qr/close 1\n.*close 2\n/s), 'Sluice closed the used-up connections');

# --- keepalive_timeout --------------------------------------------------------------

is(body('/brief/x'), 'brief 1 1', 'keepalive_timeout 1s: first request');
is(body('/brief/x'), 'brief 1 2', 'reused at once');
ok(wait_record('brief', qr/close 1\n/), 'the idle connection is closed by Sluice after 1s');
is(body('/brief/x'), 'brief 2 1', 'the next request opens a new one');

# --- the bound ----------------------------------------------------------------------

bodies('/small/x', 6);
wait_record('s1', qr/close 3\n/);
wait_record('s2', qr/close 2\n/);
# The backend records a new connection and the end of an older one in
# whichever order it notices them, so the records are compared as sets.
sub record_set
{
    my ($name) = @_;
    return join ',', sort split /\n/, record($name);
}
is(record_set('s1') . ' | ' . record_set('s2'),
   'close 1,close 2,close 3,open 1,open 2,open 3 | close 1,close 2,open 1,open 2,open 3',
   'keepalive 1 with two servers: each request evicts the other server\'s connection');

is(bodies('/roomy/x', 4), 'r1 1 1, r2 1 1, r1 1 2, r2 1 2',
   'keepalive 2 (before least_conn: the order does not matter): both kept and reused');

# --- no keepalive -------------------------------------------------------------------

is(bodies('/uncached/x', 2), 'plain 1 1, plain 2 1', 'without keepalive: a connection per request');
unlike($t->error_log, qr/load balancing method redefined/, 'keepalive is no balancing method');
