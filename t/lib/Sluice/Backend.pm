package Sluice::Backend;

# Sluice::Backend: the Perl upstream servers the proxy tests talk to. Each
# backend listens on a harness port (port(N), the same number as
# %%PORT_N%% in the configuration), runs in a forked process, and is
# stopped by pid; whatever is still running when the test file ends is
# killed by the END block here. Core Perl modules only.
#
#     use Sluice::Test qw(port);
#     use Sluice::Backend qw(backend stop_backend respond read_body send_all);
#
#     # A handler: called for every request head, in a process of its own per
#     # connection; returns true to read the next request on the connection.
#     my $pid = backend(8081, sub {
#         my ($conn, $req) = @_;
#         return respond($conn, $req, '200 OK', ['X-Uri: ' . $req->{uri}], 'hello');
#     });
#
#     # A script of responses: on each connection the first request gets the
#     # first, and so on; the last one repeats. Each is [status, [header lines], body].
#     backend(8082, script => [['503 Busy', [], 'later'], ['200 OK', [], 'now']]);
#
#     stop_backend($pid);   # KILL, wait; also its connection processes
#
# The kinds of backend (backend(N, ...) with a code reference means handler):
#
#   handler => sub { my ($conn, $req) = @_; ...; return $keep }
#       Forks a process per connection (the server is the leader of its own
#       process group, so stop_backend() takes its connections too) and
#       calls the handler for every request head read_head() returns.
#   script => [[$status, \@headers, $body], ...]
#       A handler answering the responses in order on each connection (each
#       connection is a process of its own, so the count starts over on a new
#       one; respond(), so keep-alive follows the request); the last one is
#       used again once the script runs out.
#   serial => sub { my ($sock) = @_; ...; return $hold }
#       Accepts connections one at a time in the server process and hands the
#       raw socket to the callback; the socket is closed after it, unless it
#       returns true (the connection is then held open, unanswered, until the
#       backend stops).
#   select => {request => sub, open => sub, eof => sub, tick => sub}
#       One process, one select loop (0.05 s), non-blocking sockets. For each
#       request head in a connection's input (the head only: the loop does
#       not read bodies) request->($srv, $sock, $method, $path, $head) is
#       called; open->($srv, $sock) on accept, eof->($srv, $sock) when the
#       peer closed (the loop then closes the socket), tick->($srv) every
#       turn. $srv->close($sock) closes a connection from a callback (later
#       requests already read on it are dropped).
#
# Options: lifetime => seconds the server runs at most (default: 600 for
# handler and script, 120 for serial and select), name => for messages.
#
# Helpers for handlers (all exportable): read_head($conn) reads the next
# request head ({method, uri, version, line, lines, h => {lower-case name =>
# value, repeated fields joined with ", "}}) or returns undef at EOF;
# read_body($conn, $req[, $sink]) reads a Content-Length or chunked body
# (with a sink, passes it piece by piece and returns the length);
# send_all($conn, $data) writes everything, false if the peer went away;
# respond($conn, $req, $status, \@headers, $body) answers with a
# Content-Length, "Connection: close" unless the request keeps alive, and
# returns whether it does; fill($conn) reads more into $conn->{buf}.
# A $conn is {sock => $socket, buf => $unread_input}.

use strict;
use warnings;

use Carp qw(croak);
use Exporter qw(import);
use IO::Select;
use IO::Socket::IP;
use POSIX ();
use Time::HiRes qw(time);
use Sluice::Test qw(port);

our @EXPORT_OK = qw(backend stop_backend stop_all_backends fill read_head read_body send_all
                    respond);

my %RUNNING; # pid => 1, the backends this process started
my $OWNER = $$;

# Starts a backend on loopback port(N); returns its pid. See above.
sub backend
{
    my ($n, @args) = @_;
    my %o = @args == 1 ? (handler => $args[0]) : @args;
    my $name = $o{name} // "backend $n";

    my $kind = (grep { exists $o{$_} } qw(handler script serial select))[0]
        or croak "backend($n): needs a handler, a script, serial or select";
    if ($kind eq 'script') {
        my @script = @{$o{script}};
        croak "backend($n): empty script" unless @script;
        my $i = 0;
        $o{handler} = sub {
            my ($conn, $req) = @_;
            my $r = $script[$i < $#script ? $i++ : $#script];
            return respond($conn, $req, @$r);
        };
        $kind = 'handler';
    }

    my $port = port($n);
    my $ls = IO::Socket::IP->new(LocalHost => '127.0.0.1', LocalPort => $port,
                                 Listen => $kind eq 'handler' ? 128 : 64,
                                 ReuseAddr => 1, Proto => 'tcp')
        or die "$name: listen $port: $@";
    my $pid = fork();
    die "fork: $!" unless defined $pid;
    if ($pid) {
        close $ls;
        $RUNNING{$pid} = 1;
        return $pid;
    }

    # The server process: no END blocks may run here, hence POSIX::_exit.
    %RUNNING = ();
    if ($kind eq 'handler') {
        _run_forking($ls, $o{handler}, $o{lifetime} // 600);
    } elsif ($kind eq 'serial') {
        _run_serial($ls, $o{serial}, $o{lifetime} // 120);
    } else {
        _run_select($ls, $o{select}, $o{lifetime} // 120);
    }
    POSIX::_exit(0);
}

# Stops a backend by pid (KILL to it and its process group, then waits).
sub stop_backend
{
    my ($pid) = @_;
    return unless $pid && delete $RUNNING{$pid};
    kill 'KILL', -$pid;
    kill 'KILL', $pid;
    waitpid($pid, 0);
}

sub stop_all_backends { stop_backend($_) for keys %RUNNING; }

END {
    local $?; # waitpid must not replace the test's exit status
    stop_all_backends() if $$ == $OWNER;
}

sub _run_forking
{
    my ($ls, $handler, $lifetime) = @_;
    setpgrp(0, 0);
    $SIG{CHLD} = 'IGNORE';
    alarm($lifetime);
    while (1) {
        my $c = $ls->accept() or next;
        my $k = fork();
        if (defined $k && $k == 0) {
            close $ls;
            binmode $c;
            my $conn = {sock => $c, buf => ''};
            while (my $req = read_head($conn)) {
                my $keep = $handler->($conn, $req);
                last unless $keep;
            }
            close $c;
            POSIX::_exit(0);
        }
        close $c;
    }
}

sub _run_serial
{
    my ($ls, $cb, $lifetime) = @_;
    $SIG{ALRM} = sub { POSIX::_exit(0) };
    alarm $lifetime;
    my @held;
    while (my $c = $ls->accept()) {
        $c->autoflush(1);
        if ($cb->($c)) {
            push @held, $c;
            next;
        }
        close $c;
    }
}

sub _run_select
{
    my ($ls, $cb, $lifetime) = @_;
    my $sel = IO::Select->new($ls);
    my %buf;
    my $srv = bless {sel => $sel, buf => \%buf}, 'Sluice::Backend::Loop';
    my $stop = time() + $lifetime;
    while (time() < $stop) {
        for my $s ($sel->can_read(0.05)) {
            if ($s == $ls) {
                my $c = $ls->accept() or next;
                $c->blocking(0);
                $sel->add($c);
                $buf{$c} = '';
                $cb->{open}->($srv, $c) if $cb->{open};
                next;
            }
            my $n = sysread($s, my $chunk, 65536);
            if (!$n) {
                $cb->{eof}->($srv, $s) if $cb->{eof};
                $srv->close($s);
                next;
            }
            $buf{$s} .= $chunk;
            while (exists $buf{$s} && $buf{$s} =~ s/^(\S+) (\S+) [^\r\n]*\r\n(.*?)\r\n\r\n//s) {
                my ($method, $path, $head) = ($1, $2, $3);
                $cb->{request}->($srv, $s, $method, $path, $head) if $cb->{request};
            }
        }
        $cb->{tick}->($srv) if $cb->{tick};
    }
}

package Sluice::Backend::Loop;

sub close
{
    my ($self, $s) = @_;
    delete $self->{buf}{$s};
    $self->{sel}->remove($s);
    CORE::close($s);
}

package Sluice::Backend;

# --- helpers for handlers ------------------------------------------------------------

sub fill
{
    my ($conn) = @_;
    my $n = sysread($conn->{sock}, $conn->{buf}, 262144, length $conn->{buf});
    return $n;
}

sub read_head
{
    my ($conn) = @_;
    while ($conn->{buf} !~ /\r\n\r\n/) {
        return undef unless fill($conn);
    }
    $conn->{buf} =~ s/^(.*?)\r\n\r\n//s;
    my ($line, @lines) = split /\r\n/, $1;
    my ($method, $uri, $version) = $line =~ m{^(\S+) (\S+) HTTP/(\d\.\d)$} or return undef;
    my %h;
    for (@lines) {
        my ($k, $v) = /^([^:]+):\s*(.*?)\s*$/ or next;
        $h{lc $k} = defined $h{lc $k} ? "$h{lc $k}, $v" : $v;
    }
    return {method => $method, uri => $uri, version => $version, line => $line,
            lines => \@lines, h => \%h};
}

# Reads the request body; with a sink, passes it piece by piece and returns the length.
sub read_body
{
    my ($conn, $req, $sink) = @_;
    my $body = '';
    my $total = 0;
    my $out = sub { my ($d) = @_; $total += length $d; if ($sink) { $sink->($d) } else { $body .= $d } };
    if (defined(my $cl = $req->{h}{'content-length'})) {
        while ($cl > 0) {
            if ($conn->{buf} eq '') { fill($conn) or last; }
            my $d = substr($conn->{buf}, 0, $cl, '');
            $cl -= length $d;
            $out->($d);
        }
    } elsif (($req->{h}{'transfer-encoding'} // '') =~ /chunked/i) {
        while (1) {
            while ($conn->{buf} !~ /\r\n/) { fill($conn) or return; }
            $conn->{buf} =~ s/^([0-9a-fA-F]+)[^\r]*\r\n// or return;
            my $size = hex $1;
            if ($size == 0) {
                while ($conn->{buf} !~ /^\r\n/ && $conn->{buf} !~ /\r\n\r\n/) { fill($conn) or return; }
                $conn->{buf} =~ s/^(?:.*?\r\n)?\r\n//s;
                last;
            }
            while (length $conn->{buf} < $size + 2) { fill($conn) or return; }
            $out->(substr($conn->{buf}, 0, $size));
            substr($conn->{buf}, 0, $size + 2, '');
        }
        $req->{chunked_body} = 1;
    }
    return $sink ? $total : $body;
}

sub send_all
{
    my ($conn, $data) = @_;
    local $SIG{PIPE} = 'IGNORE';
    my $off = 0;
    while ($off < length $data) {
        my $n = syswrite($conn->{sock}, $data, length($data) - $off, $off);
        return 0 unless $n;
        $off += $n;
    }
    return 1;
}

sub respond
{
    my ($conn, $req, $status, $headers, $body) = @_;
    my $keep = $req->{version} eq '1.1' && ($req->{h}{connection} // '') !~ /close/i;
    my $h = "HTTP/1.1 $status\r\n" . join('', map { "$_\r\n" } @$headers);
    $h .= "Content-Length: " . length($body) . "\r\n";
    $h .= "Connection: close\r\n" unless $keep;
    send_all($conn, "$h\r\n$body");
    return $keep;
}

1;
