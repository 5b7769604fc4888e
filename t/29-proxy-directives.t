#!/usr/bin/perl

# t/29-proxy-directives.t: proxy directives that only show under stress,
# each with a test of its own over real sockets. proxy_send_timeout (an
# upstream that reads nothing while a large body is sent: 504, the log
# line, the next server); proxy_next_upstream_timeout (retries over servers
# that all time out stop once it has passed); proxy_buffers,
# proxy_busy_buffers_size and proxy_max_temp_file_size (what a slow client
# makes the proxy hold in memory, spill to its temporary file, or hold back
# from the upstream, and the configuration checks with their messages);
# proxy_ignore_client_abort (what the upstream sees when the client leaves).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Digest::MD5 qw(md5_hex);
use Errno qw(EAGAIN EINTR EWOULDBLOCK);
use IO::Select;
use Socket qw(PF_INET SOCK_STREAM SOL_SOCKET SO_RCVBUF SO_SNDBUF IPPROTO_TCP TCP_MAXSEG inet_aton
              pack_sockaddr_in);
use Test::More;
use Time::HiRes qw(sleep time);
use Sluice::Test qw(http http_get http_parse connect_raw port);
use Sluice::Backend qw(backend read_body send_all respond);

my $t = Sluice::Test->new()->has(qw(http_proxy));

# --- what the backends saw ----------------------------------------------------------------
#
# Every backend appends one line per event to events.log in the prefix; the
# test waits (bounded) for the line it expects.

sub note_event
{
    my ($what) = @_;
    open my $fh, '>>', $t->prefix . 'events.log' or return;
    syswrite $fh, "$what\n";
    close $fh;
}

sub events { return $t->read_file('events.log') // ''; }

# Polls until $cond returns true or $timeout seconds have passed; returns its last value.
sub wait_until
{
    my ($cond, $timeout) = @_;
    my $deadline = time() + ($timeout // 10);
    while (1) {
        my $v = $cond->();
        return $v if $v || time() > $deadline;
        sleep 0.05;
    }
}

# Waits for an events.log line matching re; returns the first match group (or 1).
sub wait_event
{
    my ($re, $timeout) = @_;
    return wait_until(sub { my @m = events() =~ $re; @m ? ($m[0] // 1) : undef }, $timeout);
}

# Waits for an access.log line matching re; returns the line.
sub wait_access
{
    my ($re, $timeout) = @_;
    return wait_until(sub { my ($l) = ($t->access_log // '') =~ /^($re.*)$/m; $l }, $timeout);
}

sub count { my ($text, $re) = @_; my $n = () = $text =~ /$re/g; return $n; }

# A body of $size bytes made of 64 KiB blocks that each start with their
# number, so a lost, repeated or reordered block changes its digest.
sub pattern
{
    my ($size) = @_;
    my $fill = join '', map { chr(33 + ($_ * 7) % 90) } 0 .. 65535;
    my $body = '';
    for (my $i = 0; length $body < $size; $i++) {
        $body .= sprintf('%08d', $i) . substr($fill, 8);
    }
    return substr($body, 0, $size);
}

# --- backends -----------------------------------------------------------------------------

# Sinks: accept, note it, read nothing, hold the connection until stopped.
for my $n (8081, 8083, 8084) {
    backend($n, serial => sub {
        my ($sock) = @_;
        setsockopt($sock, SOL_SOCKET, SO_RCVBUF, 4096);
        note_event("sink $n accept");
        return 1;
    });
}

# The healthy server: reads the whole body, answers with its length and digest.
backend(8082, sub {
    my ($conn, $req) = @_;
    my $md5 = Digest::MD5->new;
    my $len = read_body($conn, $req, sub { $md5->add($_[0]) });
    my $sum = $md5->hexdigest;
    note_event("ok 8082 $req->{method} $req->{uri} $len $sum");
    return respond($conn, $req, '200 OK', [], "8082 got $len $sum\n");
});

# Slow servers: note the request, then answer nothing until the proxy closes.
for my $n (8091 .. 8094) {
    backend($n, sub {
        my ($conn, $req) = @_;
        note_event("slow $n $req->{uri}");
        my $sel = IO::Select->new($conn->{sock});
        my $deadline = time() + 30;
        while (time() < $deadline) {
            next unless $sel->can_read(0.2);
            my $r = sysread($conn->{sock}, my $x, 4096);
            last if !defined $r || $r == 0;
        }
        return 0;
    });
}

# The producer: /big/TAG/SIZE answers SIZE bytes of pattern() through a
# small send buffer, without blocking, and notes "TAG stalled N" when it
# could not write for a second with N body bytes written, "TAG done" once
# everything is written, then "TAG closed" when the proxy closes cleanly
# (it read everything: a close with unread data would be a reset).
# /paced/TAG/SIZE writes 64 KiB every 50 ms and notes "TAG aborted N" when
# a write fails.
backend(8087, sub {
    my ($conn, $req) = @_;
    my ($kind, $tag, $size) = $req->{uri} =~ m{^/(big|paced)/(\w+)/(\d+)} or return 0;
    my $sock = $conn->{sock};
    local $SIG{PIPE} = 'IGNORE';
    # bounded, but above two loopback segments (64 KiB): no wait for delayed ACKs
    setsockopt($sock, SOL_SOCKET, SO_SNDBUF, 131072);
    my $head = "HTTP/1.1 200 OK\r\nContent-Length: $size\r\nConnection: close\r\n\r\n";
    my $data = $head . pattern($size);
    my $hl = length $head;
    $sock->blocking(0);
    my $sel = IO::Select->new($sock);
    my ($off, $progress, $stalled) = (0, time(), 0);
    my $deadline = time() + 60;
    while ($off < length $data) {
        if (time() > $deadline) {
            note_event("$tag deadline " . ($off - $hl));
            return 0;
        }
        my $len = length($data) - $off;
        $len = 65536 if $len > 65536;
        my $n = syswrite($sock, $data, $len, $off);
        if (defined $n && $n > 0) {
            $off += $n;
            $progress = time();
            sleep 0.05 if $kind eq 'paced';
            next;
        }
        if (!defined $n && $! != EAGAIN && $! != EWOULDBLOCK && $! != EINTR) {
            note_event("$tag aborted " . ($off - $hl) . " ($!)");
            return 0;
        }
        if (!$stalled && time() - $progress >= 1) {
            $stalled = 1;
            note_event("$tag stalled " . ($off - $hl));
        }
        $sel->can_write(0.05);
    }
    note_event("$tag done");
    $deadline = time() + 30;
    while (time() < $deadline) {
        next unless $sel->can_read(0.2);
        my $n = sysread($sock, my $x, 4096);
        next if !defined $n && ($! == EAGAIN || $! == EINTR);
        note_event(defined $n ? "$tag closed" : "$tag reset ($!)");
        last;
    }
    return 0;
});

# The recorder, for proxy_ignore_client_abort: /early/TAG notes "TAG
# start", then waits up to 3 s; if the proxy closes meanwhile it notes "TAG
# eof-before-response", else it answers 2 KiB and notes "TAG complete" when
# the proxy closes cleanly after reading it ("TAG reset" if not).
backend(8085, sub {
    my ($conn, $req) = @_;
    my ($tag) = $req->{uri} =~ m{^/early/(\w+)} or return 0;
    my $sock = $conn->{sock};
    local $SIG{PIPE} = 'IGNORE';
    note_event("$tag start");
    my $sel = IO::Select->new($sock);
    my $deadline = time() + 3;
    while (time() < $deadline) {
        next unless $sel->can_read(0.05);
        my $n = sysread($sock, my $x, 4096);
        if (!defined $n || $n == 0) {
            note_event("$tag eof-before-response");
            return 0;
        }
    }
    send_all($conn, "HTTP/1.1 200 OK\r\nContent-Length: 2048\r\nConnection: close\r\n\r\n"
                    . ('a' x 2048));
    $deadline = time() + 10;
    while (time() < $deadline) {
        next unless $sel->can_read(0.2);
        my $n = sysread($sock, my $x, 4096);
        note_event(defined $n && $n == 0 ? "$tag complete" : "$tag reset");
        return 0;
    }
    note_event("$tag still-open");
    return 0;
});

$t->write_conf(<<'END');
error_log logs/error.log info;
worker_processes 1;
events { }
http {
    log_format dirs '$uri $status $upstream_status $upstream_addr';
    access_log logs/access.log dirs;
    proxy_temp_path %%PREFIX%%/proxy_temp;

    upstream send_pair {
        server 127.0.0.1:%%PORT_8083%% max_fails=0;
        server 127.0.0.1:%%PORT_8082%% backup;
    }

    upstream send_pair_stream {
        server 127.0.0.1:%%PORT_8084%% max_fails=0;
        server 127.0.0.1:%%PORT_8082%% backup;
    }

    upstream slow4 {
        server 127.0.0.1:%%PORT_8091%% max_fails=0;
        server 127.0.0.1:%%PORT_8092%% max_fails=0;
        server 127.0.0.1:%%PORT_8093%% max_fails=0;
        server 127.0.0.1:%%PORT_8094%% max_fails=0;
    }

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        server_name localhost;
        client_max_body_size 64m;

        location /send/ {
            proxy_send_timeout 1s;
            proxy_pass http://127.0.0.1:%%PORT_8081%%/;
        }

        location /send-stream/ {
            proxy_send_timeout 1s;
            proxy_request_buffering off;
            proxy_pass http://127.0.0.1:%%PORT_8081%%/;
        }

        location /send-next/ {
            proxy_send_timeout 1s;
            proxy_next_upstream timeout;
            proxy_pass http://send_pair/;
        }

        location /send-next-stream/ {
            proxy_send_timeout 1s;
            proxy_next_upstream timeout;
            proxy_request_buffering off;
            proxy_pass http://send_pair_stream/;
        }

        location /nut/ {
            proxy_read_timeout 1s;
            proxy_next_upstream timeout;
            proxy_next_upstream_timeout 2500ms;
            proxy_pass http://slow4/;
        }

        location /nut-all/ {
            proxy_read_timeout 1s;
            proxy_next_upstream timeout;
            proxy_pass http://slow4/;
        }

        location /ica-off/ {
            proxy_read_timeout 10s;
            proxy_pass http://127.0.0.1:%%PORT_8085%%/;
        }

        location /ica-on/ {
            proxy_read_timeout 10s;
            proxy_ignore_client_abort on;
            proxy_pass http://127.0.0.1:%%PORT_8085%%/;
        }

        location /mid/ {
            proxy_read_timeout 10s;
            proxy_pass http://127.0.0.1:%%PORT_8087%%/;
        }
    }

    # a small send buffer toward the client: what a slow client has not
    # taken stays in the proxy, not in the kernel
    server {
        listen 127.0.0.1:%%PORT_8086%% sndbuf=16k;
        server_name localhost;
        proxy_read_timeout 30s;
        send_timeout 30s;

        location /nofile/ {
            proxy_buffers 4 8k;
            proxy_busy_buffers_size 16k;
            proxy_max_temp_file_size 0;
            proxy_pass http://127.0.0.1:%%PORT_8087%%/;
        }

        location /spill/ {
            proxy_buffers 4 8k;
            proxy_busy_buffers_size 16k;
            proxy_pass http://127.0.0.1:%%PORT_8087%%/;
        }

        location /spill-big/ {
            proxy_buffers 16 256k;
            proxy_busy_buffers_size 2m;
            proxy_pass http://127.0.0.1:%%PORT_8087%%/;
        }
    }
}
END

mkdir $t->prefix . 'proxy_temp';
chmod 0777, $t->prefix . 'proxy_temp';

$t->plan(57);
$t->run();

# =========================================================================================
# proxy_send_timeout
# =========================================================================================

my $BODY_SIZE = 8 * 1024 * 1024;
my $upload = pattern($BODY_SIZE);
my $upload_md5 = md5_hex($upload);

my $SEND_LOG =
    qr/upstream timed out \(110: Connection timed out\) while sending request to upstream/;

# Sends a request with a large body without blocking, and stops sending when
# the answer starts (a streamed body stalls with the upstream). Returns the
# raw response.
sub send_streaming
{
    my ($head, $body, $timeout) = @_;
    local $SIG{PIPE} = 'IGNORE';
    my $s = connect_raw() or return undef;
    $s->blocking(0);
    my $data = $head . $body;
    my ($off, $buf, $answered) = (0, '', 0);
    my $deadline = time() + $timeout;
    while (time() < $deadline) {
        my ($r, $w) = IO::Select->select(IO::Select->new($s),
                                         !$answered && $off < length $data
                                             ? IO::Select->new($s) : undef,
                                         undef, 0.1);
        if ($r && @$r) {
            my $n = sysread($s, $buf, 65536, length $buf);
            next if !defined $n && ($! == EAGAIN || $! == EINTR);
            last if !$n;
            $answered = 1;    # stop sending
            next;
        }
        if ($w && @$w && !$answered && $off < length $data) {
            my $len = length($data) - $off;
            $len = 262144 if $len > 262144;
            my $n = syswrite($s, $data, $len, $off);
            $off += $n if $n;
            $answered = 1 if !defined $n && $! != EAGAIN && $! != EINTR;
        }
    }
    close $s;
    return $buf;
}

sub put_head
{
    my ($uri) = @_;
    return "PUT $uri HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
        . "Content-Length: $BODY_SIZE\r\n\r\n";
}

{
    my $raw = http(put_head('/send/buffered') . $upload, timeout => 25);
    my $r = http_parse($raw);
    is($r && $r->{status}, 504, 'send timeout, request buffered: 504');
    ok(wait_event(qr/^(sink 8081 accept)$/m, 5), 'the upstream had accepted the connection');
    is(count($t->error_log, $SEND_LOG), 1, 'send timeout logged "upstream timed out ... while '
                                            . 'sending request to upstream"');
    ok(wait_access(qr{/send/buffered 504 }, 5), 'access log: 504');
}

{
    my $raw = send_streaming(put_head('/send-stream/unbuffered'), $upload, 25);
    my $r = http_parse($raw);
    is($r && $r->{status}, 504, 'send timeout, request streamed: 504');
    is(count($t->error_log, $SEND_LOG), 2, 'streamed send timeout logged');
    ok(wait_access(qr{/send-stream/unbuffered 504 }, 5), 'access log: 504');
}

{
    my $raw = http(put_head('/send-next/retried') . $upload, timeout => 25);
    my $r = http_parse($raw);
    is($r && $r->{status}, 200, 'send timeout with proxy_next_upstream timeout: 200 from the next');
    is($r && $r->{body}, "8082 got $BODY_SIZE $upload_md5\n",
       'the next server got the whole body intact');
    ok(wait_event(qr/^(sink 8083 accept)$/m, 5), 'the first server had been tried');
    like(wait_access(qr{/send-next/retried }, 5) // '',
         qr{^/send-next/retried 200 504, 200 127\.0\.0\.1:\d+, 127\.0\.0\.1:\d+$},
         '$upstream_status lists the timed out try and the answer');
}

{
    # once body bytes have gone out they cannot be sent again: no retry
    my $raw = send_streaming(put_head('/send-next-stream/streamed'), $upload, 25);
    my $r = http_parse($raw);
    is($r && $r->{status}, 504, 'streamed body, send timeout: 504, not retried');
    ok(wait_event(qr/^(sink 8084 accept)$/m, 5), 'the first server had been tried');
    unlike(events(), qr{^ok 8082 PUT /streamed}m, 'the next server was not asked');
}

# =========================================================================================
# proxy_next_upstream_timeout
# =========================================================================================

sub tries { my ($uri) = @_; return count(events(), qr{^slow \d+ \Q$uri\E$}m); }

{
    my $t0 = time();
    my $r = http_parse(http_get('/nut/capped', timeout => 20));
    my $elapsed = time() - $t0;
    is($r && $r->{status}, 504, 'every server times out: 504');
    my $n = tries('/capped');
    ok($n >= 2, "retried after the first timeout ($n tries)");
    ok($n <= 3, "proxy_next_upstream_timeout 2500ms stopped the retries: $n tries of 4 servers");
    ok($elapsed >= 1.9 && $elapsed < 12, sprintf('ended after %.1f s', $elapsed));
    my $line = wait_access(qr{/nut/capped }, 5) // '';
    is(count($line, qr/127\.0\.0\.1:\d+/), $n, 'access log: one $upstream_addr per try');

    # the control: without it, each of the four is tried
    $r = http_parse(http_get('/nut-all/uncapped', timeout => 20));
    is($r && $r->{status}, 504, 'without proxy_next_upstream_timeout: 504');
    is(tries('/uncapped'), 4, 'without proxy_next_upstream_timeout: all four servers tried');
}

# =========================================================================================
# proxy_buffers, proxy_busy_buffers_size, proxy_max_temp_file_size
# =========================================================================================

my $BIG = 16 * 1024 * 1024;
my $big_md5 = md5_hex(pattern($BIG));

# A client of the sndbuf=16k server that reads nothing until read_all(). Its
# small MSS keeps several segments in flight in that buffer: a single 64 KiB
# loopback segment would wait for a delayed ACK each time.
sub slow_client
{
    my ($uri) = @_;
    socket(my $s, PF_INET, SOCK_STREAM, 0) or return undef;
    setsockopt($s, IPPROTO_TCP, TCP_MAXSEG, 4096);
    connect($s, pack_sockaddr_in(port(8086), inet_aton('127.0.0.1'))) or return undef;
    binmode $s;
    syswrite($s, "GET $uri HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    return $s;
}

sub read_all
{
    my ($s, $timeout) = @_;
    my $sel = IO::Select->new($s);
    my $buf = '';
    my $deadline = time() + $timeout;
    while (time() < $deadline) {
        next unless $sel->can_read(0.1);
        my $n = sysread($s, $buf, 262144, length $buf);
        next if !defined $n && ($! == EAGAIN || $! == EINTR);
        last if !$n;
    }
    close $s;
    return $buf;
}

# The sizes of the proxy's temporary files the worker holds open (unlinked).
sub temp_files
{
    my $master = $t->pid or return ();
    my ($kids) = $t->read_file("/proc/$master/task/$master/children") // '';
    my @sizes;
    for my $w (split ' ', $kids) {
        for my $fd (glob "/proc/$w/fd/*") {
            my $l = readlink($fd) // next;
            next unless $l =~ m{/proxy_temp/\d+\.\d+ \(deleted\)$};
            my @st = stat $fd or next;
            push @sizes, $st[7];
        }
    }
    return @sizes;
}

my $proc_ok = -r '/proc/self/task/' . $$ . '/children';

{
    # proxy_max_temp_file_size 0: reads stop when the buffers are full
    my $s = slow_client("/nofile/big/nofile/$BIG");
    my $stall = wait_event(qr/^nofile stalled (\d+)$/m, 20);
    ok(defined $stall,
       'no temporary file: the upstream was held back while the client read nothing');
    $stall //= $BIG;
    ok($stall < $BIG / 2, "it could write only $stall of $BIG bytes");
    unlike(events(), qr/^nofile done$/m, 'and had not finished');
    SKIP: {
        skip 'no /proc children list', 1 unless $proc_ok;
        is(scalar(temp_files()), 0, 'no temporary file opened');
    }
    my $r = http_parse(read_all($s, 30));
    is($r && $r->{status}, 200, 'then the client reads: 200');
    ok($r && length($r->{body}) == $BIG && md5_hex($r->{body}) eq $big_md5,
       'the whole body arrives intact');
    ok(wait_event(qr/^(nofile closed)$/m, 10), 'the upstream finished once the client read');
}

for my $case (['spill', 16 * 1024 + 8 * 1024], ['spill-big', 2 * 1024 * 1024 + 256 * 1024]) {
    my ($tag, $bound) = @$case;
    my $tagw = $tag =~ s/-/_/gr;
    # with a temporary file the upstream is read to its end while the client reads nothing
    my $s = slow_client("/$tag/big/$tagw/$BIG");
    ok(wait_event(qr/^($tagw closed)$/m, 30),
       "$tag: the upstream sent everything and was released while the client read nothing");
    SKIP: {
        skip 'no /proc children list', 2 unless $proc_ok;
        my @files = temp_files();
        is(scalar(@files), 1, "$tag: the rest went to one temporary file");
        # What is not in the file is in memory or in socket buffers: the
        # proxy's send buffer (sndbuf=16k, and one 64 KiB loopback segment)
        # and the client's receive buffer (128 KiB while it reads nothing).
        my $held = $BIG - ($files[0] // 0);
        ok($held <= $bound + 512 * 1024,
           "$tag: $held bytes held outside the file: within proxy_busy_buffers_size "
           . "and one buffer (+ socket buffers)");
    }
    my $r = http_parse(read_all($s, 30));
    ok($r && length($r->{body}) == $BIG && md5_hex($r->{body}) eq $big_md5,
       "$tag: the whole body arrives intact");
}

# --- the configuration checks -----------------------------------------------------------

# Runs sluice -t on a location with these proxy directives (line 5). The
# checks are made when the blocks are merged, after the http block is read:
# as in nginx, the message names the line that ends it (7). Returns (exit
# code, output, prefix).
sub check_conf
{
    my ($directives) = @_;
    my $c = Sluice::Test->new();
    $c->write_conf(<<"END");
events { }
http {
    server {
        listen 127.0.0.1:%%PORT_8099%%;
        location / { proxy_pass http://127.0.0.1:%%PORT_8082%%; $directives }
    }
}

END
    return ($c->test_config(), $c->prefix);
}

my $BUSY_MIN = quotemeta('"proxy_busy_buffers_size" must be equal to or greater than the maximum '
                         . 'of the value of "proxy_buffer_size" and one of the "proxy_buffers"');
my $BUSY_MAX = quotemeta('"proxy_busy_buffers_size" must be less than the size of all '
                         . '"proxy_buffers" minus one buffer');

for my $case (
    ['proxy_buffers 1 4k;', quotemeta('there must be at least 2 "proxy_buffers"')],
    ['proxy_buffer_size 8k; proxy_buffers 4 4k; proxy_busy_buffers_size 4k;', $BUSY_MIN],
    ['proxy_buffers 4 8k; proxy_busy_buffers_size 4k;', $BUSY_MIN],
    ['proxy_buffers 4 4k; proxy_busy_buffers_size 13k;', $BUSY_MAX],
) {
    my ($directives, $re) = @$case;
    my ($code, $out, $prefix) = check_conf($directives);
    ok($code, "refused: $directives");
    like($out, qr/\[emerg\] $re in \Q${prefix}\Econf\/sluice\.conf:7$/m,
         "message and file:line: $directives");
}

{
    # the limits themselves are allowed
    my ($code, $out) = check_conf('proxy_buffers 4 4k; proxy_busy_buffers_size 12k;');
    is($code, 0, 'proxy_busy_buffers_size equal to all proxy_buffers but one: accepted')
        or diag $out;
    ($code, $out) = check_conf('proxy_buffers 2 4k; proxy_busy_buffers_size 4k;');
    is($code, 0, 'two proxy_buffers: accepted') or diag $out;
}

{
    # proxy_busy_buffers_size unset: as in nginx, its default (twice the larger
    # of proxy_buffer_size and one proxy_buffers) is computed at each level from
    # that level's sizes, not inherited from the level around it
    my ($code, $out) = check_conf('proxy_buffer_size 16k; proxy_buffers 8 16k;');
    is($code, 0, 'sizes raised in a location: the default busy size follows them')
        or diag $out;
    my $prefix;
    ($code, $out, $prefix) = check_conf('proxy_buffer_size 16k; proxy_buffers 4 4k;');
    like($out, qr/\[emerg\] $BUSY_MAX in \Q${prefix}\Econf\/sluice\.conf:7$/m,
         'a location\'s default busy size is checked against its own proxy_buffers');
}


# =========================================================================================
# proxy_ignore_client_abort
# =========================================================================================

sub leave_early
{
    my ($uri, $tag) = @_;
    my $s = connect_raw();
    print {$s} "GET $uri HTTP/1.1\r\nHost: localhost\r\n\r\n";
    wait_event(qr/^($tag start)$/m, 5);
    close $s;
}

{
    leave_early('/ica-off/early/off', 'off');
    ok(wait_event(qr/^(off eof-before-response)$/m, 5),
       'ignore_client_abort off: the upstream connection is closed when the client leaves');
    ok(wait_access(qr{/ica-off/early/off 499 }, 5), 'access log: 499');
    like($t->error_log, qr/client prematurely closed connection/, 'logged at info');

    leave_early('/ica-on/early/on', 'on');
    is(wait_event(qr/^on (complete|reset|eof-before-response|still-open)$/m, 10), 'complete',
       'ignore_client_abort on: the upstream answered and its whole response was read');
    like(wait_access(qr{/ica-on/early/on }, 5) // '', qr{^/ica-on/early/on \d+ 200 },
         'access log: the upstream\'s 200');
}

{
    # a client that leaves in the middle of the body: the upstream is let go
    my $s = connect_raw();
    print {$s} "GET /mid/paced/mid/$BIG HTTP/1.1\r\nHost: localhost\r\n\r\n";
    my $got = '';
    my $sel = IO::Select->new($s);
    my $deadline = time() + 10;
    while (time() < $deadline && length $got < 100000) {
        next unless $sel->can_read(0.1);
        my $n = sysread($s, $got, 65536, length $got);
        last if !$n;
    }
    like($got, qr{^HTTP/1\.1 200 }, 'mid-body: the response had started');
    close $s;
    my $aborted = wait_event(qr/^mid (aborted \d+|done)/m, 20) // '';
    like($aborted, qr/^aborted/, 'the upstream connection was closed: its writes failed');
    my ($n) = $aborted =~ /(\d+)/;
    ok(defined $n && $n < $BIG, 'before it had sent the whole body');
    # nginx keeps the status of a response that had started going out
    ok(wait_access(qr{/mid/paced/mid/\d+ 200 }, 5), 'access log: 200, the status sent');
}
