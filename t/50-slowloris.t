#!/usr/bin/perl

# t/50-slowloris.t: 2,000 slow connections against one Sluice, with one
# worker and then with two. Half send a request head a byte at a time and
# never finish it; half send a whole head with Content-Length and then
# trickle the body, a byte every half second, then stall. While all of them
# are connected a normal request is answered at once. Then they are cut as
# nginx cuts them: the head-tricklers when client_header_timeout (counted
# from the accept, not reset by each byte) runs out, the body-tricklers when
# client_body_timeout passes without a byte (it is reset by each read, so
# they are not cut while they trickle). Neither gets a response (nginx
# sends no 408, it logs one), and each logs "client timed out" at info.
#
# One process drives all the clients through IO::Select; every loop is
# bounded in time, and every socket is closed at the end.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Errno qw(EAGAIN EINTR EWOULDBLOCK);
use IO::Select;
use Test::More;
use Time::HiRes qw(sleep time);
use Sluice::Test qw(http_get http_parse connect_raw);

my $SLOW = 2000;            # slow connections per run
my $NEED_FDS = $SLOW + 500; # what this process needs open at once

# This process holds every client socket, and the server inherits its limit:
# raise the soft RLIMIT_NOFILE (through the shell, core Perl has no
# setrlimit) by running this file again under "ulimit -n".
sub soft_nofile
{
    my $n = `sh -c 'ulimit -n' 2>/dev/null` // '';
    chomp $n;
    return $n eq 'unlimited' ? 1 << 30 : ($n =~ /^\d+$/ ? $n : 0);
}
if (soft_nofile() < $NEED_FDS && !$ENV{SLUICE_T50_RAISED}) {
    $ENV{SLUICE_T50_RAISED} = 1;
    exec('sh', '-c', 'ulimit -n 8192 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null; '
         . 'exec "$@"', 'sh', $^X, (map { "-I$_" } grep { !ref } @INC), $0, @ARGV);
}

my $t = Sluice::Test->new()->has(qw(http_rewrite http_dav));
if (soft_nofile() < $NEED_FDS) {
    plan(skip_all => "needs $NEED_FDS open files, the limit is " . soft_nofile());
}

my $HEADER_TIMEOUT = 4;   # client_header_timeout, s
my $BODY_TIMEOUT = 3;     # client_body_timeout, s
my $TRICKLE = 0.5;        # seconds between two bytes of a trickling client
my $BODY_TRICKLE_FOR = 4; # the body-tricklers trickle this long (> the body timeout), then stall

sub conf
{
    my ($workers) = @_;
    my $p = $t->prefix;
    return <<"END";
error_log logs/error.log info;
worker_processes $workers;
events { worker_connections 4096; }
http {
    log_format st '\$request_method \$status';
    access_log logs/access.log st;
    server {
        listen 127.0.0.1:%%PORT_8080%% backlog=4096;
        server_name localhost;
        client_header_timeout ${HEADER_TIMEOUT}s;
        client_body_timeout ${BODY_TIMEOUT}s;
        root ${p}html;
        location / { return 200 "fast\\n"; }
        location /put/ { dav_methods PUT; }
    }
}
END
}

mkdir $t->prefix . 'html';
mkdir $t->prefix . 'html/put';
chmod 0777, $t->prefix . 'html/put';

$t->plan(2 * 12);

# The head a head-trickler sends, a byte at a time; far longer than it can
# send before the header timeout, so it never completes.
my $SLOW_HEAD = "GET /slow HTTP/1.1\r\nHost: localhost\r\nX-Slow: " . ('s' x 200);

sub run_once
{
    my ($workers) = @_;
    my $tag = "$workers worker" . ($workers > 1 ? 's' : '');

    $t->write_conf(conf($workers));
    unlink $t->prefix . 'logs/error.log', $t->prefix . 'logs/access.log';
    $t->run();

    local $SIG{PIPE} = 'IGNORE';

    # --- connect them all (blocking connect, bounded; then non-blocking) ---
    my (@conns, %by_fd);
    my $deadline = time() + 30;
    for my $i (0 .. $SLOW - 1) {
        last if time() > $deadline;
        my $s = connect_raw(timeout => 5) or last;
        $s->blocking(0);
        my $c = {sock => $s, kind => $i % 2 ? 'body' : 'head', sent => 0, next => 0,
                 closed => undef, got => 0, id => $i};
        push @conns, $c;
        $by_fd{fileno $s} = $c;
    }
    is(scalar @conns, $SLOW, "$tag: $SLOW slow connections made");

    my $sel = IO::Select->new(map { $_->{sock} } @conns);
    my $start = time();

    # One turn of the clients: trickle what is due, note closes.
    my $turn = sub {
        my ($now, $wait) = @_;
        for my $c (@conns) {
            next if defined $c->{closed} || $now < $c->{next};
            my $byte;
            if ($c->{kind} eq 'head') {
                $byte = substr($SLOW_HEAD, $c->{sent}, 1);
            } elsif ($c->{sent} == 0) {
                $byte = "PUT /put/f$c->{id} HTTP/1.1\r\nHost: localhost\r\n"
                        . "Content-Length: 1000\r\n\r\n";
            } elsif ($now - $start < $BODY_TRICKLE_FOR) {
                $byte = 'b';
            } else {
                next; # stalled on purpose
            }
            next if $byte eq '';
            my $n = syswrite($c->{sock}, $byte);
            if (defined $n) {
                $c->{sent} += $c->{kind} eq 'body' && $c->{sent} == 0 ? 1 : $n;
                $c->{last_write} = $now;
            } elsif ($! != EAGAIN && $! != EWOULDBLOCK && $! != EINTR) {
                # the server closed it: a read will tell
            }
            $c->{next} = $now + $TRICKLE;
        }
        for my $s ($sel->can_read($wait)) {
            my $c = $by_fd{fileno $s};
            my $n = sysread($s, my $buf, 4096);
            next if !defined $n && ($! == EAGAIN || $! == EWOULDBLOCK || $! == EINTR);
            if ($n) {
                $c->{got} += $n;
                next;
            }
            $c->{closed} = time();
            $sel->remove($s);
        }
    };

    # --- let every slow client start (first bytes, body heads) ---
    $deadline = time() + 10;
    while (time() < $deadline && grep { !$_->{sent} && !defined $_->{closed} } @conns) {
        $turn->(time(), 0.02);
    }
    $turn->(time(), 0.05) for 1 .. 10;

    # --- a normal client, multiplexed with the slow ones ---
    my $fast = connect_raw(timeout => 5);
    my $t0 = time();
    my ($fast_raw, $fast_done) = ('', undef);
    if ($fast) {
        syswrite($fast, "GET /fast HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        $fast->blocking(0);
        my $fsel = IO::Select->new($fast);
        while (!defined $fast_done && time() - $t0 < 10) {
            $turn->(time(), 0.005);
            next unless $fsel->can_read(0.005);
            my $n = sysread($fast, $fast_raw, 4096, length $fast_raw);
            next if !defined $n && ($! == EAGAIN || $! == EINTR);
            $fast_done = time() unless $n;
        }
        close $fast;
    }
    my $fast_r = http_parse($fast_raw);
    is($fast_r && "$fast_r->{status} $fast_r->{body}", "200 fast\n",
       "$tag: a normal request answered among the $SLOW");
    ok(defined $fast_done && $fast_done - $t0 < 2,
       "$tag: ... within 2 s (" . (defined $fast_done ? sprintf('%.2f s', $fast_done - $t0)
                                                          : 'never') . ')');
    my @open_body = grep { $_->{kind} eq 'body' && !defined $_->{closed} } @conns;
    my @open_all = grep { !defined $_->{closed} } @conns;
    is(scalar @open_body, $SLOW / 2, "$tag: every body-trickler still open meanwhile");
    cmp_ok(scalar @open_all, '>=', $SLOW * 3 / 4,
           "$tag: the slow connections were still open meanwhile (" . scalar(@open_all) . ')');

    # --- now wait for the server to cut them all (bounded) ---
    $deadline = time() + $HEADER_TIMEOUT + $BODY_TRICKLE_FOR + $BODY_TIMEOUT + 20;
    while (time() < $deadline && grep { !defined $_->{closed} } @conns) {
        $turn->(time(), 0.05);
    }
    my @heads = grep { $_->{kind} eq 'head' } @conns;
    my @bodies = grep { $_->{kind} eq 'body' } @conns;
    is(scalar(grep { defined $_->{closed} } @heads), scalar @heads,
       "$tag: every head-trickler closed by the server");
    is(scalar(grep { defined $_->{closed} } @bodies), scalar @bodies,
       "$tag: every body-trickler closed by the server");
    # Not while it still sent a byte every $TRICKLE s: only after it stalled.
    my @early = grep { defined $_->{closed} && $_->{closed} < $start + $BODY_TRICKLE_FOR } @bodies;
    is(scalar @early, 0, "$tag: no body-trickler cut while it was still sending");
    is(scalar(grep { $_->{got} } @conns), 0,
       "$tag: none got a response (closed without a 408, as nginx does)");

    close $_->{sock} for @conns;
    @conns = ();
    %by_fd = ();

    # The server's side: one info line per cut connection, 408s in the access log.
    my ($log, $timed_out, $acc408);
    $deadline = time() + 5;
    while (1) {
        $log = $t->error_log;
        $timed_out = () = $log =~ /\[info\] [^\n]*client timed out/g;
        my $acc = $t->access_log // '';
        $acc408 = () = $acc =~ / 408$/mg;
        last if ($timed_out >= $SLOW && $acc408 >= $SLOW) || time() > $deadline;
        sleep 0.1;
    }
    is($timed_out, $SLOW, "$tag: \"client timed out\" logged at info for each");
    is($acc408, $SLOW, "$tag: each logged as a 408 in the access log");
    unlike($log, qr/\[(?:alert|crit|emerg)\]/, "$tag: no alert, crit or emerg logged");

    $t->stop();
}

run_once(1);
run_once(2);
