#!/usr/bin/perl

# t/22-websocket.t: WebSocket (any Upgrade) through the proxy. With
# proxy_http_version 1.1 and "proxy_set_header Upgrade $http_upgrade" /
# "Connection upgrade", a 101 from the upstream turns the exchange into a
# two-way tunnel: bytes both ways (those sent with the handshake too), a
# large transfer in both directions at once with back-pressure, idle
# timeout by proxy_read_timeout, and either side's close closing both.
# The backend echoes raw bytes after its 101; the proxy never looks at
# WebSocket framing.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use IO::Select;
use IO::Socket::IP;
use POSIX qw(WNOHANG);
use Test::More;
use Time::HiRes qw(sleep time);
use Sluice::Test qw(http http_get http_parse connect_raw is_closed port);
use Sluice::Backend qw(backend read_body send_all respond);

my $t = Sluice::Test->new()->has(qw(http_proxy));

# --- the backend ---------------------------------------------------------------

sub log_line
{
    my ($what) = @_;
    open my $fh, '>>', $t->prefix . 'backend.log' or return;
    print {$fh} "$what\n";
    close $fh;
}

backend(8081, sub {
    my ($conn, $req) = @_;
    my $up = $req->{h}{upgrade};

    if ($req->{uri} =~ m{^/unasked}) {
        send_all($conn, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                 . "Connection: Upgrade\r\n\r\n");
        return 0;
    }

    if (!defined $up) {
        return respond($conn, $req, '200 OK', [], "no upgrade asked\n");
    }

    send_all($conn, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: $up\r\nConnection: Upgrade\r\n"
             . "X-Req-Connection: " . ($req->{h}{connection} // '') . "\r\n"
             . "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n");

    if ($req->{uri} =~ m{^/server-closes}) {
        send_all($conn, "bye");
        return 0;
    }

    # echo until the client closes
    my $total = length $conn->{buf};
    send_all($conn, $conn->{buf}) if length $conn->{buf};
    while (1) {
        my $n = sysread($conn->{sock}, my $buf, 65536);
        last unless $n;
        $total += $n;
        send_all($conn, $buf) or last;
    }
    log_line("eof after $total");
    return 0;
});

$t->write_conf(<<'END');
error_log logs/error.log info;
events { }
http {
    server {
        listen 127.0.0.1:%%PORT_8080%%;
        server_name localhost;

        location / {
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection "upgrade";
            proxy_read_timeout 2s;
        }

        location /plain/ {
            proxy_pass http://127.0.0.1:%%PORT_8081%%/;
            proxy_http_version 1.1;
        }
    }
}
END

$t->plan(16);
$t->run();

my $HS = "Host: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         . "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

# Reads until the socket has given want bytes (or closes, or times out).
sub read_n
{
    my ($s, $want, $timeout) = @_;
    my $sel = IO::Select->new($s);
    my $buf = '';
    my $deadline = time() + ($timeout // 5);
    while (length $buf < $want && time() < $deadline) {
        next unless $sel->can_read(0.1);
        my $n = sysread($s, $buf, 65536, length $buf);
        last unless $n;
    }
    return $buf;
}

# Reads the 101 header; returns (parsed head, bytes after it).
sub handshake
{
    my ($path, $extra) = @_;
    my $s = connect_raw();
    print {$s} "GET $path HTTP/1.1\r\n$HS" . ($extra // '');
    my $sel = IO::Select->new($s);
    my $buf = '';
    my $deadline = time() + 5;
    while ($buf !~ /\r\n\r\n/ && time() < $deadline) {
        next unless $sel->can_read(0.1);
        sysread($s, $buf, 65536, length $buf) or last;
    }
    my ($head, $rest) = split /\r\n\r\n/, $buf, 2;
    return ($s, http_parse("$head\r\n\r\n"), $rest // '');
}

my ($s, $r, $rest) = handshake('/chat', 'early');
is($r && $r->{status}, 101, '101 Switching Protocols');
is($r->{headers}{upgrade}, 'websocket', 'Upgrade passed back');
like($r->{headers}{connection}, qr/^upgrade$/i, 'Connection: upgrade to the client');
is($r->{headers}{'x-req-connection'}, 'upgrade', 'the upstream got Connection: upgrade');
is($rest . read_n($s, 5 - length $rest), 'early', 'bytes sent with the handshake are tunnelled');

print {$s} "hello";
is(read_n($s, 5), 'hello', 'client to upstream and back');

# both directions at once, more than any buffer holds
my $size = 8 * 1024 * 1024;
my $block = join '', map { chr(65 + $_ % 26) } 0 .. 65535;
my ($sent, $got, $ok) = (0, 0, 1);
my $sel = IO::Select->new($s);
$s->blocking(0);
my $deadline = time() + 60;
while ($got < $size && time() < $deadline) {
    my ($rd, $wr) = IO::Select->select($sel, $sent < $size ? $sel : undef, undef, 0.5);
    if ($wr && @$wr) {
        my $n = syswrite($s, $block, sl_min(65536, $size - $sent));
        $sent += $n if $n;
    }
    if ($rd && @$rd) {
        my $n = sysread($s, my $buf, 262144);
        last if defined $n && $n == 0;
        if ($n) {
            $ok = 0 if substr($buf, 0, 1) ne substr($block, $got % 65536, 1);
            $got += $n;
        }
    }
}
$s->blocking(1);
is($got, $size, '8 MB echoed while 8 MB were being sent (back-pressure both ways)');
ok($ok, 'bytes in order');

close $s;
sleep 0.5;
like($t->read_file('backend.log') // '', qr/eof after \d+/, 'client close: the upstream sees the close');

($s, $r, $rest) = handshake('/server-closes');
is($rest . read_n($s, 3 - length $rest), 'bye', 'bytes before the upstream closes');
ok(is_closed($s, 3), 'upstream close: the client connection closes');

($s, $r) = handshake('/idle');
my $t0 = time();
ok(is_closed($s, 5), 'idle tunnel closed');
my $idle = time() - $t0;
ok($idle >= 1.5 && $idle < 4, "after proxy_read_timeout ($idle s)");

$r = http_parse(http("GET /plain/x HTTP/1.1\r\n$HS"));
is($r && $r->{body}, "no upgrade asked\n", 'without proxy_set_header Upgrade no upgrade is asked');

$r = http_parse(http_get('/unasked'));
is($r && $r->{status}, 502, '101 the client did not ask for: 502');
like($t->error_log, qr/upstream switched protocols without an upgrade request/, 'logged');

sub sl_min { return $_[0] < $_[1] ? $_[0] : $_[1]; }
