#!/usr/bin/perl

# t/40-reload.t: reloading the configuration never fails a request, and a
# bad configuration never takes the gateway down (issue 4).
#
# The proof is bench/reload.pl's reload scenario, loaded here as a library:
# 32 keep-alive clients back to back and 4 clients on a 2-second proxied
# route while the configuration is reloaded 20 times (alternating two valid
# configurations, one adding a listener the other removes) and then once
# with an invalid one. Then the pieces one by one: an idle keep-alive
# connection and a connection with no request yet are answered (with
# "Connection: close") when a request comes within the drain grace, and
# closed cleanly (end of stream, no reset) when none does; shared memory
# zones keep their state across a reload unless their size changed;
# worker_shutdown_timeout bounds how long an old worker lives; QUIT lets a
# slow request finish, TERM does not wait for it.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Errno qw(ECONNRESET);
use IO::Select;
use IO::Socket::IP;
use Test::More;
use Time::HiRes qw(sleep time);
use Sluice::Test qw(port http_parse);

BEGIN { require "$FindBin::Bin/../bench/reload.pl"; }

my $t = Sluice::Test->new()->has(qw(http_proxy http_rewrite http_log));
my $has_limit_req = $t->has_module('http_limit_req');
my $has_static = $t->has_module('http_static');
$t->plan(50);

# --- helpers ----------------------------------------------------------------------

sub get_keepalive
{
    my ($s, $path) = @_;
    print $s "GET $path HTTP/1.1\r\nHost: localhost\r\n\r\n";
    return read_one($s);
}

# Reads one response (Content-Length framed) within 5 s; returns the text or what came.
sub read_one
{
    my ($s) = @_;
    my $buf = '';
    my $sel = IO::Select->new($s);
    my $deadline = time() + 5;
    while (time() < $deadline) {
        if ($buf =~ /\r\n\r\n/) {
            my ($len) = $buf =~ /^Content-Length:\s*(\d+)/mi;
            return $buf if length($buf) >= index($buf, "\r\n\r\n") + 4 + ($len // 0);
        }
        next unless $sel->can_read(0.1);
        my $n = sysread($s, $buf, 65536, length $buf);
        last unless $n;
    }
    return $buf;
}

# Waits (bounded) for the end of the stream on s: 'eof', 'reset', or 'open'.
sub wait_end
{
    my ($s, $timeout) = @_;
    my $sel = IO::Select->new($s);
    my $deadline = time() + $timeout;
    while (time() < $deadline) {
        next unless $sel->can_read(0.05);
        my $buf;
        my $n = sysread($s, $buf, 4096);
        return 'reset' if !defined $n && $! == ECONNRESET;
        return 'eof' if defined $n && $n == 0;
        return 'error' unless defined $n;
    }
    return 'open';
}

# Waits (bounded) until every pid in old is gone; returns the seconds it took or undef.
sub wait_gone
{
    my ($old, $timeout) = @_;
    my $start = time();
    while (time() - $start < $timeout) {
        return time() - $start unless grep { SluiceReload::alive($_) } @$old;
        sleep 0.02;
    }
    return undef;
}

# Waits until each of pids logged that it is stopping (the drain began).
sub wait_draining
{
    my ($srv, @pids) = @_;
    my $deadline = time() + 5;
    while (time() < $deadline) {
        my $log = $srv->error_log;
        return 1 unless grep { $log !~ /\b$_#\d+: gracefully shutting down/ } @pids;
        sleep 0.02;
    }
    return 0;
}

# --- the proof: 20 reloads and an invalid one under load ------------------------------

my $f = SluiceReload::scenario_reload();
my $srv = $f->{t};

diag(join ', ', map { "$_ $f->{$_}" } grep { !ref $f->{$_} } sort keys %$f);
diag("failure: $_") for @{$f->{failures}}[0 .. ($#{$f->{failures}} < 9 ? $#{$f->{failures}} : 9)];

cmp_ok($f->{requests}, '>', 1000, 'load: requests answered during the reloads');
is($f->{failed}, 0, 'load: no request failed (written and unanswered, or not 200)');
is($f->{refused}, 0, 'load: no connection refused');
is($f->{timeouts}, 0, 'load: no request left unanswered');
is($f->{slow_failed}, 0, 'load: no slow request failed');
cmp_ok($f->{slow_completed}, '>=', 3 * $SluiceReload::SLOW_CLIENTS,
       'load: slow requests completed across the reloads');
is($f->{generations_seen}, 21, 'every generation answered at some point');
is($f->{last_generation_during_load}, 20, 'the last valid configuration answered the load');
is($f->{last_generation}, 20, 'after the invalid reload, the last valid configuration is live');
ok($f->{invalid_logged}, 'the invalid configuration is logged with file:line');
is($f->{master_alive}, 1, 'the master survives');
is($f->{extra_listener_ok}, '20/20', 'each reload opened its new listener');
ok(!IO::Socket::IP->new(PeerHost => '127.0.0.1', PeerPort => port(8083), Timeout => 1),
   'the listener the last reload removed is closed');
is($f->{old_workers_left}, 0, 'no old worker remains');
is($f->{workers}, $SluiceReload::WORKERS, 'exactly the new workers run');
like($srv->error_log, qr/new configuration is not loaded/, 'the refused reload is logged');

# --- drain, piece by piece --------------------------------------------------------------

my $master = $srv->pid;
my @old = SluiceReload::children($master);

# an idle keep-alive connection: its next request comes within the grace
my $ka = IO::Socket::IP->new(PeerHost => '127.0.0.1', PeerPort => port(8081), Timeout => 3)
    or die "connect: $@";
like(get_keepalive($ka, '/'), qr/^HTTP\/1\.1 200.*gen 20/s, 'keep-alive: first answer');
# a second idle one that stays idle, and one with no request yet
my $idle = IO::Socket::IP->new(PeerHost => '127.0.0.1', PeerPort => port(8081), Timeout => 3);
like(get_keepalive($idle, '/'), qr/^HTTP\/1\.1 200/, 'idle: first answer');
my $fresh = IO::Socket::IP->new(PeerHost => '127.0.0.1', PeerPort => port(8081), Timeout => 3);
my $fresh_idle = IO::Socket::IP->new(PeerHost => '127.0.0.1', PeerPort => port(8081),
                                     Timeout => 3);
sleep 0.3;   # accepted by the old workers

$srv->write_conf(SluiceReload::conf(gen => 30));
my $hup = time();
$srv->signal('HUP');
ok(wait_draining($srv, @old), 'the old workers are draining');

my $r = get_keepalive($ka, '/');
like($r, qr/^HTTP\/1\.1 200/,
     'drain: the next request on an idle keep-alive connection is answered');
like($r, qr/^Connection: close/mi, 'drain: ... with Connection: close');
like($r, qr/gen 20/, 'drain: ... by the old worker, which owns the connection');
is(wait_end($ka, 3), 'eof', 'drain: ... then the connection closes');

$r = get_keepalive($fresh, '/');
like($r, qr/^HTTP\/1\.1 200.*Connection: close/si,
     'drain: a connection accepted before the reload gets its first request answered');

is(wait_end($idle, 4), 'eof', 'drain: an idle keep-alive connection closes after the grace, '
   . 'with an end of stream (no reset)');
is(wait_end($fresh_idle, 4), 'eof', 'drain: so does a connection that never sent a request');
my $gone = wait_gone(\@old, 5);
ok(defined $gone, 'drain: the old workers exit once their connections are done');
diag(sprintf 'old workers gone %.2f s after HUP', time() - $hup) if defined $gone;

my $n = IO::Socket::IP->new(PeerHost => '127.0.0.1', PeerPort => port(8081), Timeout => 3);
like(get_keepalive($n, '/'), qr/gen 30/, 'the new configuration answers');
close $n;

# a slow request in flight: its answer, sent after the stop, says Connection: close
@old = SluiceReload::children($master);
my $slow = IO::Socket::IP->new(PeerHost => '127.0.0.1', PeerPort => port(8081), Timeout => 3);
print $slow "GET /slow HTTP/1.1\r\nHost: localhost\r\n\r\n";
# and a response whose header promised keep-alive before the stop, its body still coming
my $stream = IO::Socket::IP->new(PeerHost => '127.0.0.1', PeerPort => port(8081), Timeout => 3);
print $stream "GET /stream HTTP/1.1\r\nHost: localhost\r\n\r\n";
sleep 0.5;
$srv->write_conf(SluiceReload::conf(gen => 31));
$srv->signal('HUP');
$r = read_one($slow);
like($r, qr/^HTTP\/1\.1 200.*slow/s, 'a slow request in flight across a reload completes');
like($r, qr/^Connection: close/mi, '... with Connection: close, its header sent after the stop');
$r = read_one($stream);
like($r, qr/^HTTP\/1\.1 200.*slow/s, 'a streamed answer in flight across a reload completes');
unlike($r, qr/^Connection: close/mi, '... its header promised keep-alive before the stop');
$r = get_keepalive($stream, '/');
like($r, qr/^HTTP\/1\.1 200/, 'the request that follows on that connection is answered');
like($r, qr/^Connection: close/mi, '... with Connection: close');
ok(defined wait_gone(\@old, 5), 'then the old workers exit');
close $slow;
close $stream;

# --- worker_shutdown_timeout --------------------------------------------------------------

{
    local $SluiceReload::SHUTDOWN_TIMEOUT = 0.5;
    $srv->write_conf(SluiceReload::conf(gen => 32));
    $srv->signal('HUP');
    sleep 0.5;
    @old = SluiceReload::children($master);
    my $s = IO::Socket::IP->new(PeerHost => '127.0.0.1', PeerPort => port(8081), Timeout => 3);
    print $s "GET /slow HTTP/1.1\r\nHost: localhost\r\n\r\n";
    sleep 0.3;
    $srv->write_conf(SluiceReload::conf(gen => 33));
    my $start = time();
    $srv->signal('HUP');
    my $took = wait_gone(\@old, 5);
    ok(defined $took && $took < 1.6,
       'worker_shutdown_timeout 0.5s: the old worker is gone before its 2 s request ends')
        or diag('took ' . ($took // 'forever'));
    is(wait_end($s, 1), 'eof', '... and closed the connection of that request');
    like($srv->error_log, qr/worker_shutdown_timeout passed, closing 1 connection/,
         '... logged');
    close $s;
}

# --- shared memory zones -----------------------------------------------------------------

SKIP: {
    skip 'no limit_req or static module', 5 unless $has_limit_req && $has_static;

    my $z = Sluice::Test->new();
    # limit_req runs before content; return would answer in the rewrite phase, before it
    my $zconf = sub {
        my ($size, $gen) = @_;
        $z->write_file('html/index.html', "gen $gen\n");
        return <<"END";
worker_processes 2;
error_log logs/error.log notice;
events { }
http {
    limit_req_zone \$binary_remote_addr zone=one:$size rate=1r/m;
    server {
        listen 127.0.0.1:%%PORT_8085%%;
        location / { limit_req zone=one; root html; }
    }
}
END
    };
    my $get = sub {
        my $s = IO::Socket::IP->new(PeerHost => '127.0.0.1', PeerPort => port(8085),
                                    Timeout => 3) or return '';
        return get_keepalive($s, '/');
    };
    $z->write_conf($zconf->('1m', 1));
    $z->run();
    like($get->(), qr/^HTTP\/1\.1 200/, 'zone: first request passes');
    like($get->(), qr/^HTTP\/1\.1 503/, 'zone: second request is limited');
    $z->write_conf($zconf->('1m', 2));
    my @zold = SluiceReload::children($z->pid);
    $z->signal('HUP');
    wait_gone(\@zold, 5);
    like($get->(), qr/^HTTP\/1\.1 503/,
         'zone: same name and size, the state survives the reload (still limited)');
    $z->write_conf($zconf->('2m', 3));
    @zold = SluiceReload::children($z->pid);
    $z->signal('HUP');
    wait_gone(\@zold, 5);
    like($get->(), qr/^HTTP\/1\.1 200.*gen 3/s, 'zone: a new size starts a fresh zone');
    like($z->error_log, qr/zone "one" size changed/, 'zone: ... and says so in the log');
    $z->stop();
}

# --- QUIT and TERM --------------------------------------------------------------------------

{
    $srv->write_conf(SluiceReload::conf(gen => 40));
    $srv->signal('HUP');
    sleep 0.5;
    my $s = IO::Socket::IP->new(PeerHost => '127.0.0.1', PeerPort => port(8081), Timeout => 3);
    print $s "GET /slow HTTP/1.1\r\nHost: localhost\r\n\r\n";
    sleep 0.3;
    my $start = time();
    $srv->signal('QUIT');
    my $r = read_one($s);
    like($r, qr/^HTTP\/1\.1 200.*slow/s, 'QUIT: the slow request in flight completes');
    like($r, qr/^Connection: close/mi, 'QUIT: ... with Connection: close');
    my $status = $srv->stop(timeout => 10);
    ok(defined $status && $status == 0, 'QUIT: the master exits with 0');
    my $took = time() - $start;
    ok($took >= 1.2, 'QUIT: the master waited for the request');
    ok(!IO::Socket::IP->new(PeerHost => '127.0.0.1', PeerPort => port(8081), Timeout => 1),
       'QUIT: the port is closed');
    close $s;
}

{
    my $term = Sluice::Test->new();
    $term->write_conf(SluiceReload::conf(gen => 50));
    $term->run(ports => [8081]);
    my $s = IO::Socket::IP->new(PeerHost => '127.0.0.1', PeerPort => port(8081), Timeout => 3);
    print $s "GET /slow HTTP/1.1\r\nHost: localhost\r\n\r\n";
    sleep 0.3;
    my $start = time();
    $term->signal('TERM');
    my $end = wait_end($s, 3);
    my $deadline = time() + 5;
    sleep 0.02 while SluiceReload::alive($term->pid) && time() < $deadline;
    my $took = time() - $start;
    ok(!SluiceReload::alive($term->pid) && $took < 1.5, 'TERM: the master exits at once')
        or diag("took $took");
    isnt($end, 'open', 'TERM: the slow request is not waited for');
    $term->stop();
    close $s;
}
