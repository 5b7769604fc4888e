#!/usr/bin/perl

# t/28-proxy-early-answer.t: an upstream that answers before it has read the
# whole request body (a 413 or a 204 on the request head, an upstream that
# then keeps reading, or one that closes at once and resets the rest).
#
# With proxy_request_buffering off, the client's upload must complete and
# the client must read the upstream's status and body, never a reset: the
# rest of the body is read and dropped while the response goes out (even a
# response too large for the socket buffers, which a client writing its whole
# body first would otherwise never read) and after it, within
# lingering_timeout and lingering_time; the response says "Connection:
# close" and the connection then closes cleanly, as nginx closes it. The
# upstream connection, with half a request sent, is never kept alive. The
# same with a chunked upload, an HTTP/1.0 client, proxy_buffering off, and
# proxy_request_buffering on (the body was read first: only the upstream side
# matters).
#
# Socket buffers are made small on every hop (listen rcvbuf/sndbuf, the
# client's SO_SNDBUF, the backend's SO_RCVBUF) so that an 8 MB body cannot
# hide in them: the early answer always arrives while most of it is unsent.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Errno qw(EAGAIN EINTR);
use IO::Select;
use IO::Socket::IP;
use POSIX ();
use Socket qw(SOL_SOCKET SO_RCVBUF SO_SNDBUF SO_REUSEADDR SOMAXCONN SHUT_WR AF_INET SOCK_STREAM
              pack_sockaddr_in inet_aton);
use Test::More;
use Time::HiRes qw(sleep time);
use Sluice::Test qw(connect_raw http_parse read_response port);
use Sluice::Backend qw(read_head read_body send_all);

my $t = Sluice::Test->new()->has(qw(http_proxy))->plan(49);

my $MB = 1024 * 1024;
my $BODY = 8 * $MB;

# --- the backend ----------------------------------------------------------------------
#
#   /X/early/STATUS/SIZE  answers at once (SIZE bytes of "r", no body for 204),
#                         then reads and drops whatever comes until the close
#   /X/close/STATUS/SIZE  answers with "Connection: close" and closes at once,
#                         the body unread (the kernel resets the connection)
#   /X/slow/STATUS/SIZE   sends the header at once and the body 1 s later,
#                         then reads until the close
#   /X/ping               reads the body, answers "pong", keeps alive
#
# Every answer carries X-Conn: the pid of the process serving the connection.

my $backend_port = port(8081);
my $backend = fork();
die "fork: $!" unless defined $backend;

if ($backend == 0) {
    setpgrp(0, 0);
    $SIG{CHLD} = 'IGNORE';
    alarm(300);

    socket(my $ls, AF_INET, SOCK_STREAM, 0) or POSIX::_exit(1);
    setsockopt($ls, SOL_SOCKET, SO_REUSEADDR, 1);
    setsockopt($ls, SOL_SOCKET, SO_RCVBUF, 32768);
    bind($ls, pack_sockaddr_in($backend_port, inet_aton('127.0.0.1'))) or POSIX::_exit(1);
    listen($ls, SOMAXCONN) or POSIX::_exit(1);

    while (1) {
        accept(my $c, $ls) or next;
        my $k = fork();
        if (defined $k && $k == 0) {
            close $ls;
            binmode $c;
            serve({sock => $c, buf => ''});
            POSIX::_exit(0);
        }
        close $c;
    }
}

sub serve
{
    my ($conn) = @_;
    local $SIG{PIPE} = 'IGNORE';

    while (my $req = read_head($conn)) {
        if ($req->{uri} =~ m{/ping$}) {
            read_body($conn, $req, sub { });
            send_all($conn, "HTTP/1.1 200 OK\r\nX-Conn: $$\r\nContent-Length: 4\r\n\r\npong")
                or return;
            next;
        }

        my ($mode, $status, $size) = $req->{uri} =~ m{/(early|close|slow)/(\d+)/(\d+)$} or return;
        my $head = "HTTP/1.1 $status Early\r\nX-Conn: $$\r\n";
        $head .= "Content-Length: $size\r\n" unless $status == 204;
        $head .= "Connection: close\r\n" if $mode eq 'close';
        my $body = $status == 204 ? '' : 'r' x $size;

        if ($mode eq 'close') {
            send_all($conn, "$head\r\n$body");
            return;
        }

        if ($mode eq 'slow') {
            send_all($conn, "$head\r\n") or return;
            sleep(1);
            send_all($conn, $body) or return;
        } else {
            send_all($conn, "$head\r\n$body") or return;
        }

        # Drain only after a pause: the proxy must see the answer while its
        # request is still unsent, so whether it may reuse the connection
        # never depends on how fast this side reads (a proxy that finished
        # sending would rightly pool a connection this loop never serves).
        select(undef, undef, undef, 1) if $mode eq 'early';
        1 while sysread($conn->{sock}, my $drop, 65536);
        return;
    }
}

END {
    local $?;
    if ($backend) {
        kill 'KILL', -$backend;
        kill 'KILL', $backend;
        waitpid($backend, 0);
    }
}

$t->write_conf(<<'END');
events { }
http {
    access_log logs/access.log;

    upstream ka {
        server 127.0.0.1:%%PORT_8081%%;
        keepalive 4;
    }

    server {
        listen 127.0.0.1:%%PORT_8080%% rcvbuf=32k sndbuf=32k;
        client_max_body_size 64m;
        client_body_buffer_size 64k;
        lingering_timeout 1s;
        proxy_read_timeout 20s;
        proxy_send_timeout 20s;

        location /u/ {
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
            proxy_request_buffering off;
        }

        location /nb/ {
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
            proxy_request_buffering off;
            proxy_buffering off;
        }

        location /k/ {
            proxy_pass http://ka;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_request_buffering off;
        }

        location /b/ {
            proxy_pass http://ka;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_request_buffering on;
        }
    }
}
END

$t->run();

# --- the client ---------------------------------------------------------------------------

sub client
{
    my $s = connect_raw() or die "connect: $!";
    setsockopt($s, SOL_SOCKET, SO_SNDBUF, 32768);
    setsockopt($s, SOL_SOCKET, SO_RCVBUF, 32768);
    return $s;
}

# Sends a POST with a body of len bytes (Content-Length, or 64 KB chunks with
# chunked => 1) as fast as the server takes it, until it is all sent (or only
# the first stop => bytes), the connection fails, or 60 s have passed; then
# reads the response. Returns {s, err, complete, raw, r}.
sub upload
{
    my ($path, $len, %o) = @_;
    local $SIG{PIPE} = 'IGNORE';

    my $s = $o{socket} // client();
    my $version = $o{version} // '1.1';
    my $pending = "POST $path HTTP/$version\r\nHost: localhost\r\n"
        . ($o{chunked} ? "Transfer-Encoding: chunked\r\n" : "Content-Length: $len\r\n") . "\r\n";
    my $left = $o{stop} // $len;
    my $block = 'a' x 65536;
    my $err = '';
    my $sel = IO::Select->new($s);
    my $deadline = time() + 60;

    $s->blocking(0);

    while (time() < $deadline) {
        if ($pending eq '') {
            last if $left == 0;
            my $n = $left < 65536 ? $left : 65536;
            $left -= $n;
            $pending = $o{chunked} ? sprintf("%x\r\n%s\r\n", $n, substr($block, 0, $n))
                                   : substr($block, 0, $n);
            $pending .= "0\r\n\r\n" if $o{chunked} && $left == 0 && !defined $o{stop};
            $pending .= $o{then} if $left == 0 && defined $o{then};
        }
        next unless $sel->can_write(0.1);
        my $n = syswrite($s, $pending);
        if (!defined $n) {
            next if $! == EAGAIN || $! == EINTR;
            $err = "$!";
            last;
        }
        substr($pending, 0, $n, '');
    }

    my $complete = $err eq '' && $pending eq '' && $left == 0;
    my $raw = read_response($s, timeout => 30);
    return {s => $s, err => $err, complete => $complete, raw => $raw, r => http_parse($raw)};
}

# Reads until the server closes: 'eof' (a clean close), 'reset', or 'open' after 30 s.
sub close_kind
{
    my ($s) = @_;
    my $sel = IO::Select->new($s);
    my $deadline = time() + 30;
    while (time() < $deadline) {
        next unless $sel->can_read(0.1);
        my $n = sysread($s, my $buf, 65536);
        if (!defined $n) {
            next if $! == EAGAIN || $! == EINTR;
            return 'reset';
        }
        return 'eof' if $n == 0;
    }
    return 'open';
}

sub get_ping
{
    my ($prefix) = @_;
    my $s = client();
    print {$s} "GET $prefix/ping HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    return http_parse(read_response($s, timeout => 30)) // {status => 0, headers => {}};
}

# --- streamed body (proxy_request_buffering off) --------------------------------------------

my $u = upload('/u/early/413/5', $BODY);
ok($u->{complete}, '413 early: the whole upload went through') or diag("error: $u->{err}");
is($u->{r}{status}, 413, '413 early: the upstream\'s status');
is($u->{r}{body}, 'rrrrr', '413 early: the upstream\'s body');
is($u->{r}{headers}{connection}, 'close', '413 early: Connection: close');
is(close_kind($u->{s}), 'eof', '413 early: then a clean close');

$u = upload('/u/early/204/0', $BODY);
ok($u->{complete}, '204 early: the whole upload went through') or diag("error: $u->{err}");
is($u->{r}{status}, 204, '204 early: the upstream\'s status');
is(close_kind($u->{s}), 'eof', '204 early: then a clean close');

# a response larger than every socket buffer on the way: it goes out only
# because the body is read while it does
$u = upload('/u/early/200/' . (2 * $MB), $BODY);
ok($u->{complete}, 'large early response: the whole upload went through')
    or diag("error: $u->{err}");
is($u->{r}{status}, 200, 'large early response: status');
is(length $u->{r}{body}, 2 * $MB, 'large early response: the whole body');
ok(!$u->{r}{incomplete}, 'large early response: complete');

$u = upload('/nb/early/200/' . (2 * $MB), $BODY);
ok($u->{complete}, 'proxy_buffering off, large early response: the whole upload went through')
    or diag("error: $u->{err}");
is($u->{r}{status}, 200, 'proxy_buffering off, large early response: status');
is(length $u->{r}{body}, 2 * $MB, 'proxy_buffering off, large early response: the whole body');

# The upstream answers and closes at once, the body unread: the reset may
# reach a write to it before its answer is read; the answer still counts.
# Which comes first is up to the scheduler, hence a few rounds.
my (@complete, @status, @body, @close);
for my $prefix (('/u', '/nb') x 3) {
    $u = upload("$prefix/close/413/5", $BODY);
    push @complete, $u->{complete} ? 1 : "0 ($u->{err})";
    push @status, $u->{r}{status} // 0;
    push @body, $u->{r}{body} // '';
    push @close, close_kind($u->{s});
}
is("@complete", '1 1 1 1 1 1', 'answer then reset: the whole upload went through');
is("@status", '413 413 413 413 413 413', 'answer then reset: the upstream\'s status, never 502');
is("@body", 'rrrrr rrrrr rrrrr rrrrr rrrrr rrrrr', 'answer then reset: the upstream\'s body');
is("@close", 'eof eof eof eof eof eof', 'answer then reset: then a clean close');

# (to an HTTP/1.1 upstream: an HTTP/1.0 one would have the body read first)
$u = upload('/k/early/413/5', $BODY, chunked => 1);
ok($u->{complete}, 'chunked upload: the whole upload went through') or diag("error: $u->{err}");
is($u->{r}{status}, 413, 'chunked upload: the upstream\'s status');
is($u->{r}{body}, 'rrrrr', 'chunked upload: the upstream\'s body');
is(close_kind($u->{s}), 'eof', 'chunked upload: then a clean close');

$u = upload('/u/early/200/5', $BODY, version => '1.0');
ok($u->{complete}, 'HTTP/1.0 client: the whole upload went through') or diag("error: $u->{err}");
is($u->{r}{status}, 200, 'HTTP/1.0 client: the upstream\'s status');
is($u->{r}{body}, 'rrrrr', 'HTTP/1.0 client: the upstream\'s body');
is(close_kind($u->{s}), 'eof', 'HTTP/1.0 client: then a clean close');

# --- the upstream connection ---------------------------------------------------------------

my $p1 = get_ping('/k');
my $p2 = get_ping('/k');
is($p1->{status}, 200, 'keep-alive upstream: ping');
is($p2->{headers}{'x-conn'}, $p1->{headers}{'x-conn'},
   'keep-alive upstream: a fully sent request leaves the connection for the next one');

$u = upload('/k/early/413/5', $BODY);
ok($u->{complete}, 'keep-alive upstream, streamed: the whole upload went through')
    or diag("error: $u->{err}");
is($u->{r}{status}, 413, 'keep-alive upstream, streamed: the upstream\'s status');
my $p3 = get_ping('/k');
is($p3->{status}, 200, 'keep-alive upstream, streamed: the next request is answered');
isnt($p3->{headers}{'x-conn'}, $u->{r}{headers}{'x-conn'},
     'keep-alive upstream, streamed: the half-sent connection is not reused');

$u = upload('/b/early/413/5', $BODY);
ok($u->{complete}, 'proxy_request_buffering on: the whole upload went through')
    or diag("error: $u->{err}");
is($u->{r}{status}, 413, 'proxy_request_buffering on: the upstream\'s status');
is($u->{r}{body}, 'rrrrr', 'proxy_request_buffering on: the upstream\'s body');
{
    my $s = $u->{s};
    $s->blocking(1);
    print {$s} "GET /b/ping HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    my $r = http_parse(read_response($s, timeout => 30)) // {};
    is($r->{status}, 200, 'proxy_request_buffering on: the body was read, the client keeps alive');
}
my $p4 = get_ping('/b');
is($p4->{status}, 200, 'proxy_request_buffering on: the next request is answered');
isnt($p4->{headers}{'x-conn'}, $u->{r}{headers}{'x-conn'},
     'proxy_request_buffering on: the half-sent connection is not reused');

# --- a client that stops sending ------------------------------------------------------------

# It sends 64 KB of 8 MB and shuts down its side once the header is in: the
# response, whose body the upstream sends a second later, still arrives whole.
{
    local $SIG{PIPE} = 'IGNORE';
    my $s = client();
    print {$s} "POST /u/slow/200/5 HTTP/1.1\r\nHost: localhost\r\nContent-Length: $BODY\r\n\r\n"
        . ('a' x 65536);
    my $sel = IO::Select->new($s);
    my $got = '';
    my $deadline = time() + 30;
    while ($got !~ /\r\n\r\n/ && time() < $deadline) {
        next unless $sel->can_read(0.1);
        my $n = sysread($s, $got, 65536, length $got);
        last unless $n;
    }
    like($got, qr{^HTTP/1.1 200}, 'half-close: the header came before the body');
    shutdown($s, SHUT_WR);
    my $rest = read_response($s, timeout => 30) // '';
    my $r = http_parse($got . $rest) // {};
    is($r->{body}, 'rrrrr', 'half-close: the response arrives whole');
    is(close_kind($s), 'eof', 'half-close: then a clean close');
}

# The whole body is discarded while the upstream's body is still on its way
# (it comes a second later), and a pipelined request follows it: the bytes
# wait, the response is not cut, and the connection then closes.
$u = upload('/u/slow/200/5', $BODY,
            then => "GET /u/ping HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
ok($u->{complete}, 'pipelined after the body: the whole upload went through')
    or diag("error: $u->{err}");
is($u->{r}{body}, 'rrrrr', 'pipelined after the body: the response arrives whole');
is(close_kind($u->{s}), 'eof', 'pipelined after the body: then a clean close');

# It sends 64 KB of 8 MB, reads the answer, and sends nothing more: the
# connection closes once lingering_timeout (1 s) has passed without data.
$u = upload('/u/early/413/5', $BODY, stop => 65536);
is($u->{r}{status}, 413, 'stalled body: the upstream\'s status');
isnt(close_kind($u->{s}), 'open', 'stalled body: closed after lingering_timeout');

# --- the logs -------------------------------------------------------------------------------

my $log = $t->access_log() // '';
like($log, qr{"POST /u/early/413/5 HTTP/1.1" 413 }, 'access log: the upstream\'s status');
unlike($t->error_log(), qr/\[(alert|crit|emerg)\]/, 'no alert in the error log');
