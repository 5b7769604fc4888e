#!/usr/bin/perl

# t/27-websocket-echo.t: a real WebSocket exchange (RFC 6455) through the
# proxy, configured the way nginx users write it:
#
#     map $http_upgrade $connection_upgrade { default upgrade; '' close; }
#     proxy_http_version 1.1;
#     proxy_set_header Upgrade $http_upgrade;
#     proxy_set_header Connection $connection_upgrade;
#
# The backend performs the handshake (Sec-WebSocket-Accept), echoes masked
# client frames back unmasked (text, binary, a 70,000-byte frame, a ping
# answered with a pong), then completes the close handshake; both sides see
# the connection end. A plain request on the same location still works
# (Connection: close to the upstream, from the map's '' entry).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Digest::SHA qw(sha1);
use IO::Select;
use MIME::Base64 qw(encode_base64);
use Test::More;
use Sluice::Test qw(http_get http_parse connect_raw is_closed);
use Sluice::Backend qw(backend send_all respond);

my $t = Sluice::Test->new()->has(qw(http_proxy http_map));

my $GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

# Reads exactly $n bytes from a socket, or from a backend connection (a
# hash whose {buf} may already hold bytes read with the request head);
# undef at EOF or after 5 s.
sub read_n
{
    my ($from, $n) = @_;
    my $sock = ref $from eq 'HASH' ? $from->{sock} : $from;
    my $buf = '';
    if (ref $from eq 'HASH') {
        $buf = substr($from->{buf}, 0, $n, '');
    }
    my $sel = IO::Select->new($sock);
    while (length $buf < $n) {
        return undef unless $sel->can_read(5);
        my $got = sysread($sock, $buf, $n - length $buf, length $buf);
        return undef unless $got;
    }
    return $buf;
}

# One frame: returns (fin, opcode, payload) or () at EOF.
sub read_frame
{
    my ($sock) = @_;
    my $h = read_n($sock, 2) // return;
    my ($b0, $b1) = unpack 'CC', $h;
    my $len = $b1 & 0x7f;
    if ($len == 126) {
        $len = unpack 'n', (read_n($sock, 2) // return);
    } elsif ($len == 127) {
        $len = unpack 'Q>', (read_n($sock, 8) // return);
    }
    my $mask = ($b1 & 0x80) ? (read_n($sock, 4) // return) : undef;
    my $data = $len ? (read_n($sock, $len) // return) : '';
    if ($mask) {
        my $m = $mask x (int($len / 4) + 1);
        $data ^= substr($m, 0, $len);
    }
    return ($b0 & 0x80 ? 1 : 0, $b0 & 0x0f, $data, $mask ? 1 : 0);
}

sub frame
{
    my ($opcode, $data, $masked) = @_;
    my $len = length $data;
    my $head = pack 'C', 0x80 | $opcode;
    my $mbit = $masked ? 0x80 : 0;
    if ($len < 126) {
        $head .= pack 'C', $mbit | $len;
    } elsif ($len < 65536) {
        $head .= pack 'Cn', $mbit | 126, $len;
    } else {
        $head .= pack 'CQ>', $mbit | 127, $len;
    }
    return $head . $data unless $masked;
    my $mask = pack 'N', 0x37fa213d;
    my $m = $mask x (int($len / 4) + 1);
    return $head . $mask . ($data ^ substr($m, 0, $len));
}

backend(8081, sub {
    my ($conn, $req) = @_;
    my $key = $req->{h}{'sec-websocket-key'};
    if (!$key || lc($req->{h}{upgrade} // '') ne 'websocket') {
        my $c = $req->{h}{connection} // '-';
        return respond($conn, $req, '200 OK', [], "plain, connection=$c\n");
    }
    my $accept = encode_base64(sha1($key . $GUID), '');
    send_all($conn, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                    . "Connection: Upgrade\r\nSec-WebSocket-Accept: $accept\r\n\r\n");
    while (1) {
        my ($fin, $op, $data, $masked) = read_frame($conn);
        last unless defined $op;
        if (!$masked) {
            send_all($conn, frame(8, pack('n', 1002) . 'unmasked', 0));
            last;
        }
        if ($op == 8) {
            send_all($conn, frame(8, $data, 0));
            last;
        }
        if ($op == 9) {
            send_all($conn, frame(10, $data, 0));
            next;
        }
        send_all($conn, frame($op, $data, 0));
    }
    return 0;
});

$t->write_conf(<<'END');
error_log logs/error.log info;
events { }
http {
    map $http_upgrade $connection_upgrade {
        default upgrade;
        ''      close;
    }
    server {
        listen 127.0.0.1:%%PORT_8080%%;
        location /ws {
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_read_timeout 5s;
        }
    }
}
END

$t->plan(14);
$t->run();

my $key = encode_base64('sluice-test-key!', '');
my $s = connect_raw();
print $s "GET /ws/echo HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
         . "Connection: Upgrade\r\nSec-WebSocket-Key: $key\r\nSec-WebSocket-Version: 13\r\n\r\n";

my $head = '';
my $sel = IO::Select->new($s);
while ($head !~ /\r\n\r\n/ && $sel->can_read(5)) {
    my $c;
    last unless sysread($s, $c, 1);
    $head .= $c;
}
like($head, qr{^HTTP/1\.1 101 }, 'handshake: 101 Switching Protocols');
my ($acc) = $head =~ /^Sec-WebSocket-Accept: (\S+)\r$/mi;
is($acc, encode_base64(sha1($key . $GUID), ''), 'handshake: Sec-WebSocket-Accept matches the key');
like($head, qr/^Upgrade: websocket\r$/mi, 'handshake: Upgrade passed back');

print $s frame(1, 'hello, sluice', 1);
my ($fin, $op, $data, $masked) = read_frame($s);
is($op, 1, 'text frame echoed as text');
is($data, 'hello, sluice', 'text payload intact');
ok(!$masked, 'server frames are unmasked');

my $bin = join '', map { chr($_ % 256) } 0 .. 69_999;
print $s frame(2, $bin, 1);
($fin, $op, $data) = read_frame($s);
is($op, 2, 'a 70,000-byte binary frame echoed as binary');
ok(defined $data && $data eq $bin, 'binary payload intact (64-bit length form)');

print $s frame(9, 'ping?', 1);
($fin, $op, $data) = read_frame($s);
is("$op:$data", '10:ping?', 'ping answered with a pong carrying its payload');

print $s frame(8, pack('n', 1000) . 'bye', 1);
($fin, $op, $data) = read_frame($s);
is($op, 8, 'close handshake: the server answers with a close frame');
is(defined $data ? unpack('n', $data) : -1, 1000, 'close handshake: status 1000 echoed');
ok(is_closed($s, 5), 'after the close handshake the proxy closes the client connection');

my $r = http_parse(http_get('/ws/plain'));
is($r->{body}, "plain, connection=close\n", "without Upgrade the map's '' entry sends Connection: close");
unlike($t->error_log, qr/\[(alert|crit|emerg)\]/, 'no alert, crit or emerg');
