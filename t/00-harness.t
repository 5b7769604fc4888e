#!/usr/bin/perl

# t/00-harness.t: tests the test harness itself, without the sluice binary:
# the response parser on fixed inputs, port allocation, configuration
# writing, the socket helpers against a server forked here, and the process
# handling (run, stop, run_fail, test_config, has_module) against a stand-in
# server written below in Perl.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use IO::Socket::IP;
use POSIX qw(WNOHANG);
use Test::More;
use Time::HiRes qw(sleep time);

BEGIN {
    eval { require Sluice::Test; Sluice::Test->import(qw(http_get http http_parse
        http_parse_all read_response connect_raw is_closed port)); 1 }
        or plan(skip_all => "Sluice::Test does not load: $@");
}

plan(tests => 72);

# --- http_parse on fixed inputs ---------------------------------------------

my $r = http_parse("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n"
                   . "X-A: 1\r\nx-a: 2\r\nX-A: 3\r\n\r\nhelloHTTP/1.1 404");
is($r->{status}, 200, 'content-length: status');
is($r->{version}, 'HTTP/1.1', 'content-length: version');
is($r->{reason}, 'OK', 'content-length: reason');
is($r->{headers}{'content-type'}, 'text/plain', 'single header is a string, name lowercased');
is_deeply($r->{headers}{'x-a'}, [1, 2, 3], 'repeated header is an array in order');
is($r->{body}, 'hello', 'content-length: body stops at the length');
is($r->{rest}, 'HTTP/1.1 404', 'content-length: rest is what follows');
ok(!$r->{incomplete}, 'content-length: complete');

$r = http_parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                . "5;ext=1\r\nhello\r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\n"
                . "X-Trailer: t\r\n\r\nNEXT");
is($r->{body}, 'hello' . join('', 'a' .. 'z'), 'chunked: body decoded (extension, hex size)');
is($r->{trailers}{'x-trailer'}, 't', 'chunked: trailer');
is($r->{rest}, 'NEXT', 'chunked: rest after the last chunk');
ok(!$r->{incomplete}, 'chunked: complete');

$r = http_parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel");
ok($r->{incomplete}, 'chunked: truncated chunk is incomplete');
is($r->{body}, 'hel', 'chunked: truncated chunk keeps what came');

$r = http_parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n");
ok($r->{bad_chunk}, 'chunked: bad chunk size flagged');

$r = http_parse("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
ok($r->{incomplete}, 'content-length: short body is incomplete');
is($r->{body}, 'abc', 'content-length: short body kept');

$r = http_parse("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", head => 1);
is($r->{body}, '', 'HEAD: no body despite Content-Length');
ok(!$r->{incomplete}, 'HEAD: complete');

$r = http_parse("HTTP/1.1 204 No Content\r\nX: y\r\n\r\nHTTP/1.1 200 OK\r\n");
is($r->{body}, '', '204: no body');
is($r->{rest}, "HTTP/1.1 200 OK\r\n", '204: rest');

$r = http_parse("HTTP/1.0 200 OK\r\nServer: s\r\n\r\nuntil the close");
is($r->{body}, 'until the close', 'no framing: body to the end');
ok(!$r->{framed}, 'no framing: not framed');

$r = http_parse("HTTP/1.1 301 Moved Permanently\nLocation: /x\n\n");
is($r->{status}, 301, 'bare LF line ends');
is($r->{headers}{location}, '/x', 'bare LF header');

ok(!defined http_parse("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n"), 'incomplete head: undef');
ok(!defined http_parse("garbage\r\n\r\n"), 'not a status line: undef');
ok(!defined http_parse(undef), 'undef input: undef');

my @all = http_parse_all("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na"
                         . "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nbc");
is(scalar @all, 2, 'pipelined: two responses');
is($all[1]{status}, 201, 'pipelined: second status');
is($all[1]{body}, 'bc', 'pipelined: second body');

# --- ports and files ----------------------------------------------------------

my $t = Sluice::Test->new();
my $p1 = $t->port(8080);
my $p2 = $t->port(8081);
like($p1, qr/^\d+$/, 'port is a number');
isnt($p1, $p2, 'ports differ per placeholder');
is($t->port(8080), $p1, 'port is stable');
is(port(8080), $p1, 'port as a function agrees');
my $probe = IO::Socket::IP->new(LocalHost => '127.0.0.1', LocalPort => $p2, Listen => 1,
                                ReuseAddr => 1);
ok($probe, 'allocated port can be bound');
close $probe if $probe;

ok(-d $t->prefix . 'logs' && -d $t->prefix . 'conf', 'prefix has logs/ and conf/');
like($t->prefix, qr{/$}, 'prefix ends with a slash');
$t->write_conf("http { server { listen 127.0.0.1:%%PORT_8080%%; root %%PREFIX%%/html; } }\n");
my $conf = $t->read_file('conf/sluice.conf');
like($conf, qr/listen 127\.0\.0\.1:$p1;/, 'write_conf expands %%PORT_N%%');
unlike($conf, qr/%%/, 'write_conf leaves no placeholder');
is_deeply($t->{listen_ports}, [$p1], 'write_conf finds the listen port');
my $path = $t->write_file('html/a/b.txt', "x\0y");
is(-s $path, 3, 'write_file writes binary content, creating directories');

# --- clients against a server forked here ------------------------------------

my $port = $t->port(9000);
my $listener = IO::Socket::IP->new(LocalHost => '127.0.0.1', LocalPort => $port, Listen => 8,
                                   ReuseAddr => 1) or die "listen: $@";
my $server = fork();
die "fork: $!" unless defined $server;
if ($server == 0) {
    # 1: one response, then close; 2: two pipelined responses in one write,
    # then close; 3: hold the connection open without answering.
    for my $n (1 .. 3) {
        my $c = $listener->accept or POSIX::_exit(1);
        my $req = '';
        while ($req !~ /\r\n\r\n/) {
            sysread($c, $req, 4096, length $req) or last;
        }
        if ($n == 1) {
            my ($target) = $req =~ m{^GET (\S+) HTTP/1\.1\r\n};
            my $host = $req =~ /\r\nHost: localhost\r\n/ ? 'host' : 'nohost';
            my $body = "$target $host";
            syswrite($c, "HTTP/1.1 200 OK\r\nContent-Length: " . length($body)
                         . "\r\nConnection: close\r\n\r\n$body");
        } elsif ($n == 2) {
            syswrite($c, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\none"
                         . "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                         . "3\r\ntwo\r\n0\r\n\r\n");
        } else {
            # Until the client closes.
            1 while sysread($c, my $buf, 4096);
        }
        close $c;
    }
    POSIX::_exit(0);
}
close $listener;

$r = http_parse(http_get('/path?q=1', port => 9000));
is($r->{status}, 200, 'http_get: status');
is($r->{body}, '/path?q=1 host', 'http_get: request line and Host header sent');

my $s = connect_raw(port => 9000);
ok($s, 'connect_raw');
my $one = http("GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n",
               socket => $s);
is(http_parse($one)->{body}, 'one', 'keepalive: first response read alone');
my $two = read_response($s);
is(http_parse($two)->{body}, 'two', 'keepalive: second response kept for the next read');
ok(is_closed($s, 2), 'is_closed: true after the server closes');

$s = connect_raw(addr => "127.0.0.1:$port");
ok($s, 'connect_raw with addr');
syswrite($s, "GET / HTTP/1.1\r\n\r\n");
my $start = time();
ok(!is_closed($s, 0.3), 'is_closed: false while the server holds the connection');
cmp_ok(time() - $start, '<', 2, 'is_closed: bounded by its timeout');
close $s;
waitpid($server, 0);

ok(!defined connect_raw(port => 9001, timeout => 1), 'connect_raw: undef when nothing listens');

# --- process handling against a stand-in server ------------------------------

my $fake = <<'END';
#!PERL
# A stand-in for sluice: -t, -V, -p/-c/-g; "invalid" in the configuration
# fails it; "ignore_quit" makes master and worker ignore QUIT and TERM;
# "exit_now" exits at once; one request per connection, answering the path.
use strict;
use warnings;
use IO::Socket::IP;
my %o;
while (@ARGV) {
    my $k = shift @ARGV;
    if ($k eq '-t' || $k eq '-V') { $o{$k} = 1 } else { $o{$k} = shift @ARGV }
}
if ($o{-V}) { print "sluice version: stand-in\n"; exit 0 }
my $conf = "$o{-p}$o{-c}";
open my $fh, '<', $conf or die "sluice: [emerg] open() \"$conf\" failed\n";
my $text = do { local $/; <$fh> };
if ($text =~ /invalid/) {
    print STDERR "sluice: [emerg] unknown directive \"invalid\" in $conf:1\n";
    exit 1;
}
if ($o{-t}) {
    print STDERR "sluice: configuration file $conf test is successful\n";
    exit 0;
}
die "no daemon off\n" unless ($o{-g} // '') =~ /daemon off;/;
if ($text =~ /exit_now/) { print STDERR "going away\n"; exit 3 }
my ($port) = $text =~ /listen 127\.0\.0\.1:(\d+);/;
my $l = IO::Socket::IP->new(LocalHost => '127.0.0.1', LocalPort => $port, Listen => 8,
                            ReuseAddr => 1) or die "listen: $@";
my $ignore = $text =~ /ignore_quit/;
my $worker = fork();
if ($worker == 0) {
    $SIG{QUIT} = $SIG{TERM} = 'IGNORE' if $ignore;
    sleep 1 while 1;
}
open my $w, '>', "$o{-p}logs/worker.pid" or die; print $w $worker; close $w;
$SIG{QUIT} = $ignore ? 'IGNORE' : sub {
    kill 'TERM', $worker; waitpid($worker, 0); unlink "$o{-p}logs/sluice.pid"; exit 0;
};
select(undef, undef, undef, 0.3);
open my $p, '>', "$o{-p}logs/sluice.pid" or die; print $p "$$\n"; close $p;
while (1) {
    my $c = $l->accept or next;
    my $req = '';
    while ($req !~ /\r\n\r\n/) { sysread($c, $req, 4096, length $req) or last }
    my ($path) = $req =~ /^GET (\S+)/;
    $path //= '';
    print $c "HTTP/1.1 200 OK\r\nContent-Length: " . length($path) . "\r\n\r\n$path";
    close $c;
}
END
$fake =~ s/^#!PERL/#!$^X/;

sub alive
{
    my ($pid) = @_;
    return 0 unless kill 0, $pid;
    open my $st, '<', "/proc/$pid/stat" or return 0;
    my $stat = <$st> // '';
    return $stat =~ /^\d+ \(.*\) Z/ ? 0 : 1;
}

my $tools = Sluice::Test->new();
my $bin = $tools->write_file('bin/sluice', $fake);
chmod 0755, $bin;
$tools->write_file('bin/sl_modules.c', "const char *sl_module_names[] = {\n"
               . "    \"sl_core_module\",\n    \"sl_http_rewrite_module\",\n    NULL\n};\n");
my $f = Sluice::Test->new(binary => $bin);
is($f->binary, $bin, 'binary option');
ok($f->has_module('http_rewrite'), 'has_module: short name found in sl_modules.c');
ok($f->has_module('sl_core_module'), 'has_module: symbol name found');
ok(!$f->has_module('http_static'), 'has_module: missing module');
$f->has(qw(http_rewrite http_static));
is_deeply($f->{missing}, ['http_static'], 'has records missing modules');

$f->write_conf("listen 127.0.0.1:%%PORT_8090%%;\n");
my ($code, $out) = $f->test_config();
is($code, 0, 'test_config: exit code 0');
like($out, qr/test is successful/, 'test_config: output');

$start = time();
$f->run();
ok($f->pid, 'run: started');
ok(-s $f->prefix . 'logs/sluice.pid', 'run: returned after the pid file appeared');
is(http_parse(http_get('/fake', port => 8090))->{body}, '/fake', 'run: the port accepts');
my $worker = $f->read_file('logs/worker.pid');
ok(alive($worker), 'stand-in worker runs');
my $status = $f->stop();
is($status, 0, 'stop: QUIT, clean exit status');
ok(!alive($worker), 'stop: no worker left');
ok(!$f->pid, 'stop: not running any more');

$f->write_conf("listen 127.0.0.1:%%PORT_8090%%; ignore_quit;\n");
$f->run();
$worker = $f->read_file('logs/worker.pid');
$start = time();
$status = $f->stop(timeout => 1, quiet => 1);
ok(!defined $status, 'stop: a master that ignores QUIT is killed');
ok(!alive($worker), 'stop: its process group is killed too');
cmp_ok(time() - $start, '<', 5, 'stop: bounded');

$f->write_conf("listen 127.0.0.1:%%PORT_8090%%; exit_now;\n");
eval { $f->run() };
like($@, qr/exited during start-up \(exit code 3\).*going away/s,
     'run: dies with the exit code and output of a server that exits');

$f->write_conf("invalid;\n");
my ($err, $exit) = $f->run_fail();
like($err, qr/\[emerg\] unknown directive "invalid"/, 'run_fail: stderr');
is($exit, 1, 'run_fail: exit code');
