#!/usr/bin/perl
#
# bench/reload.pl: reloads, log rotation and a killed worker under load.
# Measures what issue 4 promises: a reload never fails a request, a bad
# configuration never takes the gateway down, log rotation loses nothing,
# and a worker killed with SIGKILL loses only the requests it had in flight.
#
#   perl bench/reload.pl [--scenario reload,rotate,kill] [--nginx]
#
# Load: 32 keep-alive clients sending requests back to back (each sends the
# next request the moment it has the previous answer) and 4 clients on a
# route proxied to a backend that answers after 2 seconds, all in this one
# process (non-blocking sockets), over loopback. A request counts as failed
# when it was written and the connection ended (end of stream, reset) before
# its whole answer came, when an answer is not 200, or when a connection is
# refused. A client answered with "Connection: close" opens a new connection
# and goes on, as HTTP clients do.
#
# Scenarios:
#   reload   20 reloads (alternating two valid configurations, each with its
#            own generation number in the answers, one adding a listener
#            the other removes) then one reload with an invalid
#            configuration; then checks that the last valid generation
#            answers, that the invalid one was logged with file:line, and
#            how long until no worker of an older generation is left.
#   rotate   renames access.log, sends USR1, goes on; counts the lines of
#            both files against the requests answered.
#   kill     sends SIGKILL to one worker; counts the requests lost against
#            those in flight on that worker's connections at that instant
#            (its client sockets, from /proc), and checks that the other
#            connections lost none and that a new worker was started.
#
# The figures are printed one per line as "scenario.name: value". With
# --nginx the same scenarios also run against nginx (Debian's package), for
# comparison. The script is also a library: t/40-reload.t and
# t/41-lifecycle.t load it and assert on the same figures.
#
# Bounded: every socket operation has a deadline, and every process started
# here (servers, workers, the backend) is stopped by pid on every way out.
#
# Environment: SLUICE_BINARY (default objs/sluice), NGINX_BINARY
# (default /usr/sbin/nginx).

package SluiceReload;

use strict;
use warnings;

use IO::Socket::IP;
use POSIX ();
use Time::HiRes qw(sleep time);

use Cwd qw(abs_path);
use File::Basename qw(dirname);

# the harness of the tests, beside this file, whoever loads it
use lib dirname(abs_path(__FILE__)) . '/../t/lib';
use Sluice::Test qw(port);

our $FAST_CLIENTS = 32;
our $SLOW_CLIENTS = 4;
our $SLOW_SECONDS = 2;
our $WORKERS = 2;
our $SHUTDOWN_TIMEOUT = 10;
our $REQUEST_TIMEOUT = 20;

my @BACKENDS;

END {
    local $?;
    stop_backends();
}

sub stop_backends
{
    for my $pid (@BACKENDS) {
        next unless $pid;
        kill 'KILL', -$pid;
        kill 'KILL', $pid;
        waitpid($pid, 0);
    }
    @BACKENDS = ();
}

# --- the slow backend ----------------------------------------------------------

# A forking keep-alive HTTP server on loopback port placeholder n: every
# request is answered "slow\n" after SLOW_SECONDS; /stream sends the header
# and the first byte at once and the rest after SLOW_SECONDS. Returns its pid.
sub slow_backend
{
    my ($n) = @_;
    my $port = port($n);
    my $ls = IO::Socket::IP->new(LocalHost => '127.0.0.1', LocalPort => $port, Listen => 128,
                                 ReuseAddr => 1, Proto => 'tcp')
        or die "backend listen $port: $@";
    my $pid = fork();
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        setpgrp(0, 0);
        $SIG{CHLD} = 'IGNORE';
        alarm(900);
        while (1) {
            my $c = $ls->accept() or next;
            my $k = fork();
            if (defined $k && $k == 0) {
                close $ls;
                binmode $c;
                my $buf = '';
                while (1) {
                    while ($buf !~ /\r\n\r\n/) {
                        my $r = sysread($c, $buf, 65536, length $buf);
                        POSIX::_exit(0) unless $r;
                    }
                    $buf =~ s/^(.*?)\r\n\r\n//s;
                    my $head = $1;
                    my $out = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
                        . "Connection: keep-alive\r\n\r\nslow\n";
                    if ($head =~ m{^GET /stream}) {
                        # the header and a first byte at once, the rest later
                        my $first = substr($out, 0, length($out) - 4, '');
                        syswrite($c, $first) == length $first or POSIX::_exit(0);
                    }
                    sleep $SLOW_SECONDS;
                    syswrite($c, $out) == length $out or POSIX::_exit(0);
                }
            }
            close $c;
        }
    }
    close $ls;
    push @BACKENDS, $pid;
    return $pid;
}

# --- configurations -------------------------------------------------------------

# A configuration of generation gen: every answer of "/" says "gen N". Even
# generations also listen on port placeholder 8082, odd ones on 8083, so a
# reload opens one listener and closes another while the main one (8081)
# stays. With access => 1 requests are logged to logs/access.log.
sub conf
{
    my (%o) = @_;
    my $gen = $o{gen} // 0;
    my $extra = $gen % 2 ? '%%PORT_8083%%' : '%%PORT_8082%%';
    my $access = $o{access} ? 'access_log logs/access.log;' : 'access_log off;';
    my $bad = $o{invalid} ? "    proxy_read_timeout 10x;\n" : '';
    return <<"END";
worker_processes $WORKERS;
worker_shutdown_timeout ${\ int($SHUTDOWN_TIMEOUT * 1000)}ms;
error_log logs/error.log notice;
pid logs/sluice.pid;
events { worker_connections 1024; }
http {
    $access
    keepalive_requests 1000000;
    keepalive_timeout 60s;
    server {
        listen 127.0.0.1:%%PORT_8081%%;
        listen 127.0.0.1:$extra;
$bad        location / { return 200 "gen $gen\\n"; }
        location /slow {
            proxy_pass http://127.0.0.1:%%PORT_8090%%;
            proxy_read_timeout 30s;
        }
        location /stream {
            proxy_pass http://127.0.0.1:%%PORT_8090%%;
            proxy_buffering off;
        }
    }
}
END
}

# The line of the invalid directive in conf(invalid => 1).
sub invalid_line
{
    my @lines = split /\n/, conf(invalid => 1);
    for my $i (0 .. $#lines) {
        return $i + 1 if $lines[$i] =~ /10x/;
    }
    return 0;
}

# --- processes -----------------------------------------------------------------

# The live (not zombie) children of pid.
sub children
{
    my ($pid) = @_;
    my @c;
    opendir my $d, '/proc' or return ();
    for my $p (grep { /^\d+$/ } readdir $d) {
        open my $fh, '<', "/proc/$p/stat" or next;
        my $stat = <$fh> // '';
        close $fh;
        my ($state, $ppid) = $stat =~ /\)\s+(\S)\s+(\d+)/ or next;
        push @c, $p + 0 if $ppid == $pid && $state ne 'Z';
    }
    closedir $d;
    return sort { $a <=> $b } @c;
}

sub alive
{
    my ($pid) = @_;
    open my $fh, '<', "/proc/$pid/stat" or return 0;
    my $stat = <$fh> // '';
    return $stat =~ /\)\s+Z/ ? 0 : 1;
}

# The loopback client ports of the TCP connections process pid holds on server port.
sub client_ports_of
{
    my ($pid, $port) = @_;
    my %inodes;
    opendir my $d, "/proc/$pid/fd" or return ();
    for my $fd (readdir $d) {
        my $l = readlink "/proc/$pid/fd/$fd" or next;
        $inodes{$1} = 1 if $l =~ /^socket:\[(\d+)\]$/;
    }
    closedir $d;
    my %ports;
    open my $fh, '<', "/proc/$pid/net/tcp" or return ();
    while (my $line = <$fh>) {
        my @f = split ' ', $line;
        next unless @f > 9 && $f[1] =~ /:([0-9A-F]{4})$/;
        my $local = hex $1;
        next unless $local == $port && $inodes{$f[9]};
        my ($remote) = $f[2] =~ /:([0-9A-F]{4})$/;
        $ports{hex $remote} = 1 if $remote && hex $remote != 0;
    }
    close $fh;
    return \%ports;
}

# --- the load ------------------------------------------------------------------

sub new_load
{
    my (%o) = @_;
    my $self = {
        port => $o{port},
        clients => [],
        running => 1,
        ok => 0, failed => 0, refused => 0, bad_status => 0, timeouts => 0,
        slow_ok => 0, slow_failed => 0,
        reconnects => 0, closes => 0,
        gens => {},
        failures => [],
        last_gen => undef,
        last_gen_at => 0,
    };
    for my $i (0 .. $FAST_CLIENTS - 1) {
        push @{$self->{clients}}, {kind => 'fast', path => "/?c=$i"};
    }
    for my $i (0 .. ($o{slow} // $SLOW_CLIENTS) - 1) {
        push @{$self->{clients}}, {kind => 'slow', path => "/slow?c=$i"};
    }
    bless $self, 'SluiceReload::Load';
    $self->start_client($_) for @{$self->{clients}};
    return $self;
}

package SluiceReload::Load;

use strict;
use warnings;

use Errno qw(EAGAIN EINTR EWOULDBLOCK);
use IO::Select;
use IO::Socket::IP;
use Socket qw(IPPROTO_TCP TCP_NODELAY);
use Time::HiRes qw(sleep time);

sub start_client
{
    my ($self, $c) = @_;
    $c->{sock} = undef;
    $c->{rbuf} = '';
    $c->{wbuf} = '';
    $c->{outstanding} = 0;
    return unless $self->{running};
    my $s = IO::Socket::IP->new(PeerHost => '127.0.0.1', PeerPort => $self->{port},
                                Proto => 'tcp', Timeout => 3);
    if (!$s) {
        $self->{refused}++;
        push @{$self->{failures}}, "$c->{kind}: connect: $@";
        $c->{retry_at} = time() + 0.01;
        return;
    }
    $s->blocking(0);
    setsockopt($s, IPPROTO_TCP, TCP_NODELAY, 1);
    binmode $s;
    $c->{sock} = $s;
    $c->{lport} = $s->sockport();
    $c->{requests} = 0;
    $self->send_request($c);
}

sub send_request
{
    my ($self, $c) = @_;
    $c->{wbuf} = "GET $c->{path} HTTP/1.1\r\nHost: localhost\r\n\r\n";
    $c->{outstanding} = 1;
    $c->{sent_at} = time();
    $self->flush($c);
}

sub flush
{
    my ($self, $c) = @_;
    while (length $c->{wbuf}) {
        my $n = syswrite($c->{sock}, $c->{wbuf});
        if (!defined $n) {
            return if $! == EAGAIN || $! == EWOULDBLOCK || $! == EINTR;
            $self->fail($c, "write: $!");
            return;
        }
        substr($c->{wbuf}, 0, $n, '');
    }
}

# The connection ended or broke with a request written and not (wholly) answered.
sub fail
{
    my ($self, $c, $why) = @_;
    if ($c->{outstanding}) {
        $self->{$c->{kind} eq 'slow' ? 'slow_failed' : 'failed'}++;
        push @{$self->{failures}},
            sprintf("%s client port %d, request %d on the connection: %s (%d bytes read)",
                    $c->{kind}, $c->{lport}, $c->{requests} + 1, $why, length $c->{rbuf});
        $self->{on_fail}->($c) if $self->{on_fail};
    }
    close $c->{sock} if $c->{sock};
    $self->start_client($c);
}

# Parses complete answers out of the read buffer.
sub parse
{
    my ($self, $c) = @_;
    while ($c->{rbuf} =~ /\r\n\r\n/) {
        my $end = index($c->{rbuf}, "\r\n\r\n");
        my $head = substr($c->{rbuf}, 0, $end);
        my ($status) = $head =~ m{^HTTP/1\.\d (\d{3})};
        my ($len) = $head =~ /^Content-Length:\s*(\d+)/mi;
        my $close = $head =~ /^Connection:\s*close/mi ? 1 : 0;
        $len //= 0;
        return if length($c->{rbuf}) < $end + 4 + $len;
        my $body = substr($c->{rbuf}, $end + 4, $len);
        substr($c->{rbuf}, 0, $end + 4 + $len, '');
        $c->{outstanding} = 0;
        $c->{requests}++;
        if (!defined $status || $status != 200) {
            $self->{bad_status}++;
            push @{$self->{failures}}, "$c->{kind}: status " . ($status // '?');
        } elsif ($c->{kind} eq 'slow') {
            $self->{slow_ok}++;
        } else {
            $self->{ok}++;
            if ($body =~ /^gen (\d+)/) {
                $self->{gens}{$1}++;
                $self->{last_gen} = $1;
                $self->{last_gen_at} = time();
            }
        }
        if ($close) {
            $self->{closes}++;
            close $c->{sock};
            $self->{reconnects}++;
            $self->start_client($c);
            return;
        }
        $self->send_request($c) if $self->{running};
    }
}

# Runs the clients until time `until`, calling tick->() between rounds.
sub run_until
{
    my ($self, $until, $tick) = @_;
    while (time() < $until) {
        $self->round(0.01);
        $tick->() if $tick;
    }
}

sub round
{
    my ($self, $wait) = @_;
    my $rs = IO::Select->new();
    my $ws = IO::Select->new();
    my %by;
    my $now = time();
    for my $c (@{$self->{clients}}) {
        if (!$c->{sock}) {
            $self->start_client($c) if $self->{running} && ($c->{retry_at} // 0) <= $now;
            next;
        }
        if ($c->{outstanding} && $now - $c->{sent_at} > $SluiceReload::REQUEST_TIMEOUT) {
            $self->{timeouts}++;
            $self->fail($c, 'timed out');
            next;
        }
        $by{fileno $c->{sock}} = $c;
        $rs->add($c->{sock});
        $ws->add($c->{sock}) if length $c->{wbuf};
    }
    my ($r, $w) = IO::Select->select($rs, $ws, undef, $wait);
    for my $s (@{$w // []}) {
        my $c = $by{fileno $s} or next;
        $self->flush($c) if $c->{sock} && $c->{sock} == $s;
    }
    for my $s (@{$r // []}) {
        my $c = $by{fileno $s} or next;
        next unless $c->{sock} && $c->{sock} == $s;
        my $n = sysread($s, $c->{rbuf}, 65536, length $c->{rbuf});
        if (!defined $n) {
            next if $! == EAGAIN || $! == EWOULDBLOCK || $! == EINTR;
            $self->fail($c, "read: $!");
            next;
        }
        if ($n == 0) {
            # the server closed: a loss only with a request written and unanswered
            if ($c->{outstanding}) {
                $self->fail($c, 'end of stream');
            } else {
                close $c->{sock};
                $self->start_client($c);
            }
            next;
        }
        $self->parse($c);
    }
}

# Stops sending new requests and waits (bounded) for those in flight.
sub finish
{
    my ($self, $timeout) = @_;
    $self->{running} = 0;
    my $deadline = time() + ($timeout // 30);
    while (time() < $deadline) {
        last unless grep { $_->{sock} && $_->{outstanding} } @{$self->{clients}};
        $self->round(0.02);
    }
    for my $c (@{$self->{clients}}) {
        next unless $c->{sock};
        if ($c->{outstanding}) {
            $self->{timeouts}++;
            $self->fail($c, 'still unanswered at the end');
        }
        close $c->{sock} if $c->{sock};
        $c->{sock} = undef;
    }
}

# Clients with a request written and unanswered whose client port is in ports.
sub in_flight_on
{
    my ($self, $ports) = @_;
    return scalar grep { $_->{sock} && $_->{outstanding} && $ports->{$_->{lport}} }
        @{$self->{clients}};
}

package SluiceReload;

# --- scenarios -------------------------------------------------------------------

# Starts a server (sluice, or nginx with nginx => 1) on conf(%conf); returns the Sluice::Test.
sub start_server
{
    my (%o) = @_;
    my $t = Sluice::Test->new($o{nginx} ? (binary => $ENV{NGINX_BINARY} // '/usr/sbin/nginx')
                                        : ());
    $t->write_conf(conf(%{$o{conf} // {}}));
    $t->run(ports => [8081], timeout => 10);
    return $t;
}

# Waits (bounded) until master has exactly the workers in want; returns seconds waited or undef.
sub wait_only_workers
{
    my ($master, $want, $timeout) = @_;
    my %want = map { $_ => 1 } @$want;
    my $start = time();
    while (time() - $start < $timeout) {
        my @c = children($master);
        return time() - $start if @c == @$want && !grep { !$want{$_} } @c;
        sleep 0.05;
    }
    return undef;
}

# The worker pids the master started last ("start worker process N" after the last "reconfiguring").
sub last_started_workers
{
    my ($t) = @_;
    my $log = $t->error_log;
    my @pids = $log =~ /start worker process (\d+)/g;
    return @pids[-$WORKERS .. -1];
}

# The reload scenario; returns the figures.
sub scenario_reload
{
    my (%o) = @_;
    my %f;
    slow_backend(8090) unless @BACKENDS;
    my $t = start_server(%o, conf => {gen => 0});
    my $master = $t->pid;
    my $load = new_load(port => port(8081));
    $load->run_until(time() + 0.5);

    my $reloads = $o{reloads} // 20;
    my @reload_times;
    my $extra_ok = 0;
    my $extra_checked = 0;
    for my $gen (1 .. $reloads) {
        $t->write_conf(conf(gen => $gen));
        kill 'HUP', $master;
        push @reload_times, time();
        $load->run_until(time() + ($o{interval} // 0.3));
        # the listener of this generation accepts (the one of the last is closed)
        my $p = port($gen % 2 ? 8083 : 8082);
        my $deadline = time() + 3;
        my $s;
        while (!$s && time() < $deadline) {
            $s = IO::Socket::IP->new(PeerHost => '127.0.0.1', PeerPort => $p, Timeout => 1);
            $load->round(0.02) unless $s;
        }
        $extra_checked++;
        $extra_ok++ if $s;
        close $s if $s;
    }
    my $last_valid = time();

    # how long after the last valid reload its older workers are all gone
    my $old_gone_after;
    my $next_check = 0;
    my $watch = sub {
        return if defined $old_gone_after || time() < $next_check;
        $next_check = time() + 0.05;
        my %new = map { $_ => 1 } last_started_workers($t);
        my @c = children($master);
        $old_gone_after = time() - $last_valid if @c == $WORKERS && !grep { !$new{$_} } @c;
    };
    $load->run_until(time() + 0.5, $watch);

    # an invalid configuration: the old one must go on
    $t->write_conf(conf(gen => $reloads + 1, invalid => 1));
    kill 'HUP', $master;
    $load->run_until(time() + ($o{after} // 3), $watch);
    my $gen_seen_before = $load->{last_gen};
    $load->finish(30);

    my @new = last_started_workers($t);
    my $settle = wait_only_workers($master, \@new, $SHUTDOWN_TIMEOUT + 5);
    my @left = grep { my $p = $_; !grep { $_ == $p } @new } children($master);
    $old_gone_after //= time() - $last_valid if defined $settle;
    my @workers = children($master);

    # a fresh request after the storm
    my $s = IO::Socket::IP->new(PeerHost => '127.0.0.1', PeerPort => port(8081), Timeout => 3);
    my $fresh = '';
    if ($s) {
        print $s "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
        local $/;
        $fresh = <$s> // '';
    }
    my ($fresh_gen) = $fresh =~ /gen (\d+)/;

    my $line = invalid_line();
    my $log = $t->error_log;

    %f = (
        reloads => $reloads,
        requests => $load->{ok},
        failed => $load->{failed} + $load->{bad_status},
        refused => $load->{refused},
        timeouts => $load->{timeouts},
        slow_completed => $load->{slow_ok},
        slow_failed => $load->{slow_failed},
        reconnects => $load->{reconnects},
        generations_seen => scalar keys %{$load->{gens}},
        last_generation => $fresh_gen // -1,
        last_generation_during_load => $gen_seen_before // -1,
        invalid_logged => ($log =~ /conf\/sluice\.conf:$line\b/ ? 1 : 0),
        extra_listener_ok => "$extra_ok/$extra_checked",
        old_workers_left => scalar @left,
        old_workers_gone_s => defined $old_gone_after ? sprintf('%.1f', $old_gone_after) : 'never',
        workers => scalar @workers,
        master_alive => alive($master) ? 1 : 0,
        failures => $load->{failures},
        t => $t,
    );
    return \%f;
}

# The rotation scenario; returns the figures.
sub scenario_rotate
{
    my (%o) = @_;
    slow_backend(8090) unless @BACKENDS;
    my $t = start_server(%o, conf => {gen => 0, access => 1});
    my $dir = $t->prefix . 'logs';
    my $load = new_load(port => port(8081));
    $load->run_until(time() + 1);
    rename "$dir/access.log", "$dir/access.log.1" or die "rename: $!";
    kill 'USR1', $t->pid;
    $load->run_until(time() + ($o{after} // 2.5));
    $load->finish(30);
    # the last lines are written when the requests end, just after their answers
    sleep 0.5;
    my $count = sub {
        my ($f) = @_;
        open my $fh, '<', $f or return 0;
        my $n = 0;
        $n++ while <$fh>;
        return $n;
    };
    my $old = $count->("$dir/access.log.1");
    my $new = $count->("$dir/access.log");
    my %f = (
        requests => $load->{ok} + $load->{slow_ok},
        failed => $load->{failed} + $load->{slow_failed} + $load->{bad_status},
        refused => $load->{refused},
        lines_renamed_file => $old,
        lines_new_file => $new,
        lines_lost => $load->{ok} + $load->{slow_ok} - $old - $new,
        failures => $load->{failures},
        t => $t,
    );
    return \%f;
}

# The SIGKILL scenario; returns the figures.
sub scenario_kill
{
    my (%o) = @_;
    slow_backend(8090) unless @BACKENDS;
    my $t = start_server(%o, conf => {gen => 0});
    my $master = $t->pid;
    my $load = new_load(port => port(8081));
    $load->run_until(time() + 1);
    my @before = children($master);
    # the worker holding the most client connections: it has the most to lose
    my ($victim, $ports) = (undef, {});
    for my $w (@before) {
        my $p = client_ports_of($w, port(8081));
        ($victim, $ports) = ($w, $p) if !defined $victim || keys %$p > keys %$ports;
    }
    my $in_flight = $load->in_flight_on($ports);
    my $ok_before = $load->{ok};
    my @lost_other;
    $load->{on_fail} = sub {
        my ($c) = @_;
        push @lost_other, $c->{lport} unless $ports->{$c->{lport}};
    };
    kill 'KILL', $victim;
    $load->run_until(time() + ($o{after} // 2));
    $load->finish(30);
    my $deadline = time() + 5;
    my @after;
    while (time() < $deadline) {
        @after = children($master);
        last if @after == @before && !grep { $_ == $victim } @after;
        sleep 0.05;
    }
    my %f = (
        victim => $victim,
        victim_connections => scalar keys %$ports,
        in_flight_at_kill => $in_flight,
        lost => $load->{failed} + $load->{slow_failed} + $load->{bad_status},
        lost_elsewhere => scalar @lost_other,
        refused => $load->{refused},
        requests_after_kill => $load->{ok} - $ok_before,
        respawned => (@after == @before && !grep { $_ == $victim } @after) ? 1 : 0,
        respawn_logged => ($t->error_log =~ /process $victim exited on signal 9/ ? 1 : 0),
        failures => $load->{failures},
        t => $t,
    );
    return \%f;
}

sub print_figures
{
    my ($name, $f) = @_;
    for my $k (sort keys %$f) {
        next if $k eq 't' || $k eq 'failures';
        printf "%s.%s: %s\n", $name, $k, $f->{$k};
    }
    my @fl = @{$f->{failures} // []};
    printf "%s.failure: %s\n", $name, $_ for @fl[0 .. ($#fl < 9 ? $#fl : 9)];
}

sub main
{
    require Getopt::Long;
    my $scenarios = 'reload,rotate,kill';
    my $nginx = 0;
    Getopt::Long::GetOptions('scenario=s' => \$scenarios, 'nginx' => \$nginx)
        or die "usage: bench/reload.pl [--scenario reload,rotate,kill] [--nginx]\n";
    my @servers = ('sluice', $nginx ? ('nginx') : ());
    printf "# %d keep-alive clients back to back, %d clients on a %d s route, "
        . "%d workers, loopback\n", $FAST_CLIENTS, $SLOW_CLIENTS, $SLOW_SECONDS, $WORKERS;
    for my $server (@servers) {
        for my $s (split /,/, $scenarios) {
            my $sub = SluiceReload->can("scenario_$s") or die "no scenario $s\n";
            my $f = $sub->(nginx => $server eq 'nginx');
            print_figures("$server.$s", $f);
            $f->{t}->stop();
        }
    }
    stop_backends();
    return 0;
}

exit main() unless caller;

1;
