package Sluice::Test;

# Sluice::Test: the integration test harness, nginx-tests style. Each test
# writes its own configuration into a temporary prefix, starts the real
# binary in the foreground, and talks to it over loopback with real sockets.
# Core Perl modules only.
#
#     use FindBin;
#     use lib "$FindBin::Bin/lib";
#     use Test::More;
#     use Sluice::Test qw(http_get http_parse);
#
#     my $t = Sluice::Test->new()->has(qw(http_rewrite))->plan(2);
#     $t->write_conf(<<'END');
#     events { }
#     http {
#         server {
#             listen 127.0.0.1:%%PORT_8080%%;
#             location / { return 200 "hello"; }
#         }
#     }
#     END
#     $t->run();
#     my $r = http_parse(http_get('/'));
#     is($r->{status}, 200, 'status');
#     is($r->{body}, 'hello', 'body');
#
# Ports: %%PORT_N%% in a configuration becomes a free loopback port, the same
# one for the same N for the whole test file ($t->port(N) gives it). The
# client helpers take port => N (the placeholder number, default 8080) or
# addr => 'host:port' (a literal address).
#
# Environment: SLUICE_BINARY (default: objs/sluice of this tree),
# SLUICE_TEST_LEAVE=1 keeps the temporary prefix for inspection.

use strict;
use warnings;

use Carp qw(croak);
use Errno qw(EINTR EAGAIN);
use Exporter qw(import);
use File::Basename qw(dirname);
use File::Path qw(make_path);
use File::Spec;
use File::Temp qw(tempdir);
use IO::Select;
use IO::Socket::IP;
use POSIX qw(WNOHANG);
use Socket qw(SOCK_STREAM);
use Test::More ();
use Time::HiRes qw(sleep time);

our @EXPORT_OK = qw(http_get http http_parse http_parse_all read_response connect_raw
                    is_closed port);

our $TIMEOUT = 5;

my $ROOT = File::Spec->rel2abs(File::Spec->catdir(dirname(__FILE__), '..', '..', '..'));

my %PORTS;        # placeholder number => port, for the whole test file
my %PORT_TAKEN;   # port => 1
my @INSTANCES;    # running servers, stopped at END whatever happens
my $CURRENT;      # the last Sluice::Test created, for the plain client helpers

# Sanitizer reports. A worker that ASan, LSan or UBSan stops dies in the
# background while the master goes on serving, so a test could pass over it:
# at the end of the file (END below) the harness fails one extra test when
# any server's stderr or error log, or the output of a -t or failing run,
# holds a report. Only the test process itself does this, not its forks.
my $MAIN_PID = $$;
my $SANITIZER_RE = qr/AddressSanitizer|LeakSanitizer|runtime error:/;
my @PREFIXES;           # every prefix created, scanned at END
my @SANITIZER_REPORTS;  # reports found in captured output

sub new
{
    my ($class, %args) = @_;

    my $prefix = tempdir('sluice-test-XXXXXXXX', TMPDIR => 1,
                         CLEANUP => !$ENV{SLUICE_TEST_LEAVE});
    make_path("$prefix/logs", "$prefix/conf", "$prefix/client_body_temp");
    # Run as root, the workers drop to an unprivileged user (as nginx's do):
    # they must be able to read what a test writes and spool request bodies.
    chmod(0755, $prefix);
    chmod(01777, "$prefix/client_body_temp");

    push @PREFIXES, $prefix;

    my $self = bless {
        prefix => $prefix,
        owner => $$,
        binary => $args{binary} // $ENV{SLUICE_BINARY} // "$ROOT/objs/sluice",
        missing => [],
        pid => undef,
        listen_ports => [],
    }, $class;

    Test::More::diag("prefix $prefix kept (SLUICE_TEST_LEAVE)") if $ENV{SLUICE_TEST_LEAVE};
    $CURRENT = $self;
    return $self;
}

# The tree the harness belongs to, and the temporary prefix (with a trailing slash).
sub root { return $ROOT; }
sub prefix { my ($self) = @_; return "$self->{prefix}/"; }
sub binary { my ($self) = @_; return $self->{binary}; }

# Returns a free loopback port for placeholder N, the same one every call.
sub port
{
    my $n = ref $_[0] ? $_[1] : $_[0];
    croak "port() needs a placeholder number" unless defined $n && $n =~ /^\d+$/;
    return $PORTS{$n} if exists $PORTS{$n};

    for (1 .. 50) {
        my $s = IO::Socket::IP->new(LocalHost => '127.0.0.1', LocalPort => 0,
                                    Proto => 'tcp', Listen => 1, ReuseAddr => 0)
            or croak "cannot bind a loopback socket: $@";
        my $p = $s->sockport();
        close $s;
        next if $PORT_TAKEN{$p};
        $PORT_TAKEN{$p} = 1;
        return $PORTS{$n} = $p;
    }
    croak "no free loopback port found";
}

# Replaces %%PORT_N%% and %%PREFIX%% in a text.
sub expand
{
    my ($self, $text) = @_;
    $text =~ s/%%PORT_(\d+)%%/$self->port($1)/ge;
    $text =~ s/%%PREFIX%%/$self->{prefix}/g;
    return $text;
}

# Writes a file under the prefix (parent directories created); returns its path.
sub write_file
{
    my ($self, $name, $content) = @_;
    my $path = "$self->{prefix}/$name";
    make_path(dirname($path));
    open my $fh, '>', $path or croak "cannot write $path: $!";
    binmode $fh;
    print {$fh} $content;
    close $fh or croak "cannot write $path: $!";
    return $path;
}

sub write_file_expand
{
    my ($self, $name, $content) = @_;
    return $self->write_file($name, $self->expand($content));
}

# Writes conf/sluice.conf with placeholders expanded; remembers the loopback
# ports of its listen directives so that run() waits for them.
sub write_conf
{
    my ($self, $text) = @_;
    my $conf = $self->expand($text);
    my @ports;
    while ($conf =~ /(?:^|[\s;{}])listen\s+([^\s;]+)/g) {
        my $addr = $1;
        next if $addr =~ /^unix:/;
        if ($addr =~ /^(?:(?:127\.0\.0\.1|localhost|\*|0\.0\.0\.0|\[::1?\]):)?(\d+)$/) {
            push @ports, $1;
        }
    }
    $self->{listen_ports} = \@ports;
    $self->write_file('conf/sluice.conf', $conf);
    return $self;
}

sub read_file
{
    my ($self, $name) = @_;
    my $path = $name =~ m{^/} ? $name : "$self->{prefix}/$name";
    open my $fh, '<', $path or return undef;
    binmode $fh;
    local $/;
    my $content = <$fh>;
    close $fh;
    return $content // '';
}

sub error_log { my ($self) = @_; return $self->read_file('logs/error.log') // ''; }
sub access_log { my ($self, $name) = @_; return $self->read_file('logs/' . ($name // 'access.log')); }
# What the server printed on stdout and stderr (before its error log was open).
sub stderr { my ($self) = @_; return $self->read_file('logs/stderr') // ''; }

# The names of the modules compiled in: the objs/sl_modules.c beside the
# binary when there is one, else what "sluice -V" prints.
sub modules
{
    my ($self) = @_;
    return $self->{modules} if $self->{modules};

    my $text = '';
    my $list = File::Spec->catfile(dirname($self->{binary}), 'sl_modules.c');
    if (-f $list) {
        $text = $self->read_file($list) // '';
        ($text) = $text =~ /sl_module_names\[\]\s*=\s*\{(.*?)\}/s;
        $text //= '';
    } elsif (-x $self->{binary}) {
        $text = _capture([$self->{binary}, '-V'], $TIMEOUT)->{output};
    }
    my %m = map { $_ => 1 } $text =~ /\b(sl_\w+_module)\b/g;
    return $self->{modules} = \%m;
}

# True when module NAME ("http_rewrite" or "sl_http_rewrite_module") is compiled in.
sub has_module
{
    my ($self, $name) = @_;
    $name = "sl_${name}_module" unless $name =~ /^sl_\w+_module$/;
    return $self->modules->{$name} ? 1 : 0;
}

# Records the modules a test needs; plan() skips the test when one is missing.
sub has
{
    my ($self, @names) = @_;
    push @{$self->{missing}}, grep { !$self->has_module($_) } @names;
    return $self;
}

# Plans N tests, or skips them all when the binary or a needed module is missing.
sub plan
{
    my ($self, $n) = @_;
    if (!-x $self->{binary}) {
        Test::More::plan(skip_all => "no binary at $self->{binary} (run make)");
    }
    if (@{$self->{missing}}) {
        Test::More::plan(skip_all => "not built with: @{$self->{missing}}");
    }
    Test::More::plan(tests => $n);
    return $self;
}

sub _base_args
{
    my ($self) = @_;
    return ('-p', "$self->{prefix}/", '-c', 'conf/sluice.conf');
}

# Starts the binary in the foreground (-g 'daemon off;') in its own process
# group, then waits (bounded) for logs/sluice.pid and for every listen port
# of the configuration to accept. Dies with the server's output when it does
# not come up. Options: args => [...] appended, globals => '...' added to -g,
# ports => [...] (placeholders) to wait for instead, timeout => seconds.
sub run
{
    my ($self, %opts) = @_;
    croak "already running (pid $self->{pid})" if $self->{pid};
    croak "no binary at $self->{binary}" unless -x $self->{binary};

    my $globals = 'daemon off;' . (defined $opts{globals} ? " $opts{globals}" : '');
    my @cmd = ($self->{binary}, $self->_base_args, '-g', $globals, @{$opts{args} // []});
    my $timeout = $opts{timeout} // $TIMEOUT;
    my @ports = $opts{ports} ? map { $self->port($_) } @{$opts{ports}} : @{$self->{listen_ports}};

    unlink "$self->{prefix}/logs/sluice.pid";
    my $pid = _spawn(\@cmd, "$self->{prefix}/logs/stderr");
    $self->{pid} = $pid;
    $self->{exit_status} = undef;
    push @INSTANCES, $self;

    my $deadline = time() + $timeout;
    while (1) {
        my $r = waitpid($pid, WNOHANG);
        if ($r == $pid) {
            my $status = $?;
            $self->{pid} = undef;
            $self->{exit_status} = $status;
            croak "sluice exited during start-up (" . _status_text($status) . ")\n"
                . $self->_diagnostics;
        }
        if (-s "$self->{prefix}/logs/sluice.pid" && !grep { !_accepts($_) } @ports) {
            return $self;
        }
        if (time() > $deadline) {
            $self->_kill_group();
            croak "sluice did not start within $timeout s (pid file and ports @ports)\n"
                . $self->_diagnostics;
        }
        sleep 0.05;
    }
}

# The pid of the running master, or undef.
sub pid { my ($self) = @_; return $self->{pid}; }

# Sends a signal (name or number) to the master.
sub signal
{
    my ($self, $sig) = @_;
    croak "not running" unless $self->{pid};
    return kill $sig, $self->{pid};
}

# Sends QUIT, waits (bounded) for the master to exit, then kills what is
# left of its process group. Returns the master's wait status (undef if it
# had to be killed). Options: timeout => seconds (10), quiet => 1 (no diag).
sub stop
{
    my ($self, %opts) = @_;
    return $self->{exit_status} unless $self->{pid};
    return undef if $$ != $self->{owner};

    my $pid = $self->{pid};
    my $timeout = $opts{timeout} // 10;
    kill 'QUIT', $pid;
    my $deadline = time() + $timeout;
    my $status;
    while (time() < $deadline) {
        my $r = waitpid($pid, WNOHANG);
        if ($r == $pid || $r == -1) {
            $status = $r == $pid ? $? : undef;
            last;
        }
        sleep 0.05;
    }
    if (!defined $status && !$opts{quiet} && kill 0, $pid) {
        Test::More::diag("sluice (pid $pid) did not exit on QUIT within $timeout s; killing it");
    }
    $self->_kill_group();
    $self->{pid} = undef;
    $self->{exit_status} = $status;
    @INSTANCES = grep { $_ != $self } @INSTANCES;
    return $status;
}

sub _kill_group
{
    my ($self) = @_;
    my $pid = $self->{pid} or return;
    return if $$ != $self->{owner};
    # Workers are in the master's process group; a killed master leaves them.
    kill 'KILL', -$pid;
    kill 'KILL', $pid;
    my $deadline = time() + 5;
    while (time() < $deadline) {
        my $r = waitpid($pid, WNOHANG);
        last if $r == $pid || $r == -1;
        sleep 0.02;
    }
    $self->{pid} = undef;
}

sub _diagnostics
{
    my ($self) = @_;
    my $out = $self->stderr;
    my $log = $self->error_log;
    return "--- stdout/stderr:\n$out--- logs/error.log:\n$log";
}

# Runs the binary expecting it to fail; returns its stderr (and, in list
# context, the exit code: undef when it had to be killed after the timeout).
sub run_fail
{
    my ($self, %opts) = @_;
    my $globals = 'daemon off;' . (defined $opts{globals} ? " $opts{globals}" : '');
    my $r = _capture([$self->{binary}, $self->_base_args, '-g', $globals, @{$opts{args} // []}],
                     $opts{timeout} // $TIMEOUT);
    return wantarray ? ($r->{output}, $r->{code}) : $r->{output};
}

# Runs the binary with -t; returns (exit code, stdout and stderr).
sub test_config
{
    my ($self, %opts) = @_;
    my $r = _capture([$self->{binary}, '-t', $self->_base_args, @{$opts{args} // []}],
                     $opts{timeout} // $TIMEOUT);
    return ($r->{code}, $r->{output});
}

sub DESTROY
{
    my ($self) = @_;
    local ($@, $!, $?);
    $self->stop() if $self->{pid} && $$ == $self->{owner};
}

END {
    local $?;
    for my $t (@INSTANCES) {
        $t->stop() if $t->{pid} && $$ == $t->{owner};
    }
    _sanitizer_verdict() if $$ == $MAIN_PID;
}

# Records the lines of a sanitizer report in text (from where) for END.
sub _note_sanitizer
{
    my ($where, $text) = @_;
    return unless defined $text && $text =~ $SANITIZER_RE;
    my @lines = split /\n/, $text;
    my ($first) = grep { $lines[$_] =~ $SANITIZER_RE } 0 .. $#lines;
    my $last = $first + 15 > $#lines ? $#lines : $first + 15;
    push @SANITIZER_REPORTS, "$where:\n" . join("\n", @lines[$first .. $last]);
}

# Fails one test when a server of this file printed a sanitizer report: in
# logs/stderr, or in an error log (any logs/*error*.log, the usual place
# since stderr goes to the error log once it is open).
sub _sanitizer_verdict
{
    for my $prefix (@PREFIXES) {
        for my $file ("$prefix/logs/stderr", glob("$prefix/logs/*error*.log")) {
            next unless -f $file;
            open my $fh, '<', $file or next;
            binmode $fh;
            local $/;
            my $text = <$fh>;
            close $fh;
            _note_sanitizer($file, $text);
        }
    }
    return unless @SANITIZER_REPORTS;
    Test::More::ok(0, 'no AddressSanitizer, LeakSanitizer or UBSan report from the server');
    Test::More::diag($_) for @SANITIZER_REPORTS;
}

# Forks and execs cmd in a new process group with stdout and stderr to a file.
sub _spawn
{
    my ($cmd, $out) = @_;
    my $pid = fork();
    croak "fork: $!" unless defined $pid;
    if ($pid == 0) {
        # Nothing of the parent's (END blocks, DESTROY) may run here.
        setpgrp(0, 0);
        open STDIN, '<', '/dev/null';
        open STDOUT, '>', $out or POSIX::_exit(126);
        open STDERR, '>&', \*STDOUT or POSIX::_exit(126);
        { no warnings 'exec'; exec { $cmd->[0] } @$cmd; }
        print STDERR "exec $cmd->[0]: $!\n";
        POSIX::_exit(127);
    }
    return $pid;
}

# Runs cmd to completion (killed after timeout); returns {code, output}.
sub _capture
{
    my ($cmd, $timeout) = @_;
    my (undef, $file) = File::Temp::tempfile('sluice-out-XXXXXXXX', TMPDIR => 1, UNLINK => 1);
    my $pid = _spawn($cmd, $file);
    my $deadline = time() + $timeout;
    my $code;
    while (1) {
        my $r = waitpid($pid, WNOHANG);
        if ($r == $pid) {
            $code = ($? & 127) ? undef : $? >> 8;
            last;
        }
        if (time() > $deadline) {
            kill 'KILL', -$pid;
            kill 'KILL', $pid;
            waitpid($pid, 0);
            Test::More::diag("@$cmd still running after $timeout s; killed");
            last;
        }
        sleep 0.02;
    }
    open my $fh, '<', $file or croak "cannot read $file: $!";
    local $/;
    my $output = <$fh> // '';
    close $fh;
    unlink $file;
    _note_sanitizer("output of @$cmd", $output) if $$ == $MAIN_PID;
    return {code => $code, output => $output};
}

sub _status_text
{
    my ($status) = @_;
    return 'signal ' . ($status & 127) if $status & 127;
    return 'exit code ' . ($status >> 8);
}

sub _accepts
{
    my ($port) = @_;
    my $s = IO::Socket::IP->new(PeerHost => '127.0.0.1', PeerPort => $port, Proto => 'tcp',
                                Timeout => 1);
    return 0 unless $s;
    close $s;
    return 1;
}

# --- clients -----------------------------------------------------------------
#
# Each may be called as a function or as a method ($t->http_get(...)).
# Common options: port => N (placeholder, default 8080), addr => 'host:port',
# timeout => seconds (default 5), socket => an open socket to use (left open).

sub _args
{
    shift if ref $_[0] && eval { $_[0]->isa(__PACKAGE__) };
    return @_;
}

sub _peer
{
    my (%opts) = @_;
    if (defined $opts{addr}) {
        my ($host, $port) = $opts{addr} =~ /^\[?(.*?)\]?:(\d+)$/
            or croak "bad addr \"$opts{addr}\"";
        return ($host, $port);
    }
    return ('127.0.0.1', port($opts{port} // 8080));
}

# Connects to the server; returns the socket or undef.
sub connect_raw
{
    my (%opts) = _args(@_);
    my ($host, $port) = _peer(%opts);
    my $s = IO::Socket::IP->new(PeerHost => $host, PeerPort => $port, Proto => 'tcp',
                                Timeout => $opts{timeout} // $TIMEOUT);
    return undef unless $s;
    $s->autoflush(1);
    binmode $s;
    return $s;
}

# Sends a GET request for path with Connection: close; returns the raw response.
# Options: host (default localhost), headers => ['Name: value', ...], and
# those of http().
sub http_get
{
    my ($path, %opts) = _args(@_);
    my $host = $opts{host} // 'localhost';
    my $headers = join '', map { "$_\r\n" } @{$opts{headers} // []};
    return http("GET $path HTTP/1.1\r\nHost: $host\r\nConnection: close\r\n$headers\r\n", %opts);
}

# Sends raw (a string, or an array of strings sent apart with sleep => seconds
# between them) and returns what the server sent: everything until it closed,
# or with keepalive => 1 (or socket =>) one complete response. Returns what
# was read so far on timeout, undef when the connection failed.
sub http
{
    my ($raw, %opts) = _args(@_);
    local $SIG{PIPE} = 'IGNORE';
    my $s = $opts{socket} // connect_raw(%opts);
    return undef unless $s;

    my @parts = ref $raw eq 'ARRAY' ? @$raw : ($raw);
    for my $i (0 .. $#parts) {
        sleep($opts{sleep}) if $i > 0 && $opts{sleep};
        _write_all($s, $parts[$i], $opts{timeout} // $TIMEOUT) or last;
    }
    my $head = join('', @parts) =~ /^HEAD /;

    if ($opts{keepalive} || $opts{socket}) {
        return read_response($s, %opts, head => $opts{head} // $head);
    }
    return _read_until_close($s, $opts{timeout} // $TIMEOUT);
}

sub _write_all
{
    my ($s, $data, $timeout) = @_;
    my $sel = IO::Select->new($s);
    my $off = 0;
    my $deadline = time() + $timeout;
    while ($off < length $data) {
        return 0 if time() > $deadline;
        next unless $sel->can_write(0.1);
        my $n = syswrite($s, $data, length($data) - $off, $off);
        if (!defined $n) {
            next if $! == EINTR || $! == EAGAIN;
            return 0;
        }
        $off += $n;
    }
    return 1;
}

sub _read_until_close
{
    my ($s, $timeout) = @_;
    my $sel = IO::Select->new($s);
    my $buf = '';
    my $deadline = time() + $timeout;
    while (time() < $deadline) {
        next unless $sel->can_read(0.1);
        my $n = sysread($s, $buf, 65536, length $buf);
        if (!defined $n) {
            next if $! == EINTR || $! == EAGAIN;
            last;
        }
        last if $n == 0;
    }
    return $buf;
}

# Reads one complete response from an open socket (head => 1 for a response
# to HEAD). Returns the raw response, what was read on timeout or close, or
# undef when nothing came. Bytes read past the response (the next pipelined
# one) are kept with the socket for the next call.
sub read_response
{
    my ($s, %opts) = _args(@_);
    my $sel = IO::Select->new($s);
    my $buf = delete ${*$s}{sluice_test_rest} // '';
    my $deadline = time() + ($opts{timeout} // $TIMEOUT);
    while (1) {
        my ($r, $end) = _parse_one($buf, 0, $opts{head});
        if ($r && !$r->{incomplete} && $r->{framed}) {
            ${*$s}{sluice_test_rest} = substr($buf, $end) if $end < length $buf;
            return substr($buf, 0, $end);
        }
        last if time() > $deadline;
        next unless $sel->can_read(0.1);
        my $n = sysread($s, $buf, 65536, length $buf);
        if (!defined $n) {
            next if $! == EINTR || $! == EAGAIN;
            last;
        }
        last if $n == 0;
    }
    return length $buf ? $buf : undef;
}

# Waits up to timeout seconds (default 5) for the peer to close the socket,
# reading and dropping whatever data comes first. True on EOF or reset.
sub is_closed
{
    my ($s, $timeout) = _args(@_);
    my $sel = IO::Select->new($s);
    my $deadline = time() + ($timeout // $TIMEOUT);
    while (time() < $deadline) {
        next unless $sel->can_read(0.05);
        my $n = sysread($s, my $buf, 65536);
        if (!defined $n) {
            next if $! == EINTR || $! == EAGAIN;
            return 1; # ECONNRESET and friends: closed too
        }
        return 1 if $n == 0;
    }
    return 0;
}

# Parses the first response in raw: {status, version, reason, headers, body,
# trailers, rest, incomplete}. Header names are lowercased; a header that
# appears once is a string, one that repeats is an array of its values. The
# body is decoded (Content-Length or chunked; else everything to the end);
# rest is what follows the response. undef when the head is not complete.
# Options: head => 1 for a response to HEAD (no body).
sub http_parse
{
    my ($raw, %opts) = _args(@_);
    return undef unless defined $raw;
    my ($r) = _parse_one($raw, 0, $opts{head});
    return $r;
}

# Parses every response in raw (pipelining); returns a list of them.
sub http_parse_all
{
    my ($raw, %opts) = _args(@_);
    my @all;
    my $pos = 0;
    while (defined $raw && $pos < length $raw) {
        my ($r, $end) = _parse_one($raw, $pos, $opts{head});
        last unless $r;
        push @all, $r;
        last if $r->{incomplete} || $end <= $pos;
        $pos = $end;
    }
    return @all;
}

# Returns (response, end offset) for the response starting at pos, or ().
# framed: the body length was known (Content-Length, chunked, or no body).
sub _parse_one
{
    my ($raw, $pos, $head) = @_;
    my $hend = index($raw, "\r\n\r\n", $pos);
    my $sep = 4;
    my $lf = index($raw, "\n\n", $pos);
    if ($lf >= 0 && ($hend < 0 || $lf < $hend)) {
        ($hend, $sep) = ($lf, 2);
    }
    return () if $hend < 0;

    my @lines = split /\r?\n/, substr($raw, $pos, $hend - $pos);
    my $line = shift(@lines) // '';
    my ($version, $status, $reason) = $line =~ m{^(HTTP/\d\.\d)\s+(\d{3})(?:\s+(.*))?$};
    return () unless defined $status;

    my $r = {version => $version, status => $status + 0, reason => $reason // '',
             headers => {}, body => '', trailers => {}, framed => 1};
    _add_headers($r->{headers}, \@lines);

    my $body_start = $hend + $sep;
    my $end = $body_start;
    my $te = _last($r->{headers}{'transfer-encoding'});
    my $cl = _last($r->{headers}{'content-length'});

    if ($head || $status < 200 || $status == 204 || $status == 304) {
        $end = $body_start;
    } elsif (defined $te && $te =~ /chunked\s*$/i) {
        my $p = $body_start;
        while (1) {
            my $eol = index($raw, "\n", $p);
            if ($eol < 0) { $r->{incomplete} = 1; $end = length $raw; last; }
            my ($size) = substr($raw, $p, $eol - $p) =~ /^([0-9a-fA-F]+)/;
            if (!defined $size) { $r->{incomplete} = 1; $r->{bad_chunk} = 1; $end = length $raw; last; }
            $size = hex $size;
            $p = $eol + 1;
            if ($size == 0) {
                # Trailers, then an empty line.
                my @trailers;
                while (1) {
                    my $e = index($raw, "\n", $p);
                    if ($e < 0) { $r->{incomplete} = 1; $p = length $raw; last; }
                    my $l = substr($raw, $p, $e - $p);
                    $l =~ s/\r$//;
                    $p = $e + 1;
                    last if $l eq '';
                    push @trailers, $l;
                }
                _add_headers($r->{trailers}, \@trailers);
                $end = $p;
                last;
            }
            if ($p + $size > length $raw) {
                $r->{body} .= substr($raw, $p);
                $r->{incomplete} = 1;
                $end = length $raw;
                last;
            }
            $r->{body} .= substr($raw, $p, $size);
            $p += $size;
            # The CRLF after the data.
            if (substr($raw, $p, 2) eq "\r\n") { $p += 2; }
            elsif (substr($raw, $p, 1) eq "\n") { $p += 1; }
            elsif ($p >= length $raw) { $r->{incomplete} = 1; $end = $p; last; }
            else { $r->{bad_chunk} = 1; $r->{incomplete} = 1; $end = length $raw; last; }
        }
    } elsif (defined $cl && $cl =~ /^\s*(\d+)\s*$/) {
        my $len = $1;
        $r->{body} = substr($raw, $body_start, $len);
        $r->{incomplete} = 1 if length($r->{body}) < $len;
        $end = $body_start + length $r->{body};
    } else {
        # Delimited by the close: everything that follows.
        $r->{body} = substr($raw, $body_start);
        $r->{framed} = 0;
        $end = length $raw;
    }

    $r->{rest} = substr($raw, $end);
    delete $r->{incomplete} unless $r->{incomplete};
    return ($r, $end);
}

sub _add_headers
{
    my ($h, $lines) = @_;
    for my $l (@$lines) {
        my ($name, $value) = $l =~ /^([^:\s]+):[ \t]*(.*?)[ \t]*$/ or next;
        $name = lc $name;
        if (!exists $h->{$name}) {
            $h->{$name} = $value;
        } elsif (ref $h->{$name}) {
            push @{$h->{$name}}, $value;
        } else {
            $h->{$name} = [$h->{$name}, $value];
        }
    }
}

sub _last
{
    my ($v) = @_;
    return ref $v ? $v->[-1] : $v;
}

1;
