//! Log lines leave the request path here: serving threads append each line to
//! a bounded buffer, and a writer thread of its own writes what has gathered
//! to the output in one call.
//!
//! A reader that stalls (a log collector that stops reading, a full disk)
//! must never stall serving. When the buffer is full, a new line is dropped
//! and counted instead of waited for; the writer reports how many were lost in
//! one line as soon as it can write again, and `/metrics` counts them
//! (`log_lines_dropped_total`).

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

/// Bytes of log lines held while the writer is busy or the reader is slow:
/// about 2,000 request lines, a few seconds of a stalled collector at high
/// load, and a bound on the memory logging can take.
pub const CAPACITY_BYTES: usize = 512 * 1024;

/// How long the writer lets lines gather after each write: under load one
/// write (and one wake-up) carries many lines; when idle, a line is written
/// as soon as it comes.
const GATHER: Duration = Duration::from_millis(2);
/// How long the writer waits before it tries a failed output again.
const RETRY_PAUSE: Duration = Duration::from_millis(250);

/// The sending half: cheap to clone, shared by every serving thread.
#[derive(Debug, Clone)]
pub struct LogBuffer {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    state: Mutex<State>,
    /// The writer waits here for lines, a flush or the end.
    lines_waiting: Condvar,
    /// Flushes wait here for the writer to get through what they asked for.
    lines_written: Condvar,
    /// Lines lost since start: dropped at a full buffer, or failed to write.
    dropped_total: AtomicU64,
    capacity: usize,
}

#[derive(Debug, Default)]
struct State {
    pending: Vec<u8>,
    /// Lost lines the writer has not reported yet.
    dropped_unreported: u64,
    /// Bytes ever accepted, and of those the ones the writer is done with
    /// (written or failed): a flush waits for the second to reach the first.
    accepted_bytes: u64,
    done_bytes: u64,
    /// The writer is waiting on `lines_waiting` and must be woken.
    writer_idle: bool,
    /// A flush is waiting: the writer skips its gathering pause.
    flush_waiting: bool,
}

impl LogBuffer {
    /// Starts the writer thread, which writes to `output` until the process
    /// ends; `report` formats the line that says how many lines were lost.
    ///
    /// # Errors
    ///
    /// Fails if the thread cannot be started.
    pub fn start<W, R>(output: W, capacity: usize, report: R) -> std::io::Result<Self>
    where
        W: Write + Send + 'static,
        R: Fn(&mut Vec<u8>, u64) + Send + 'static,
    {
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                pending: Vec::with_capacity(capacity.min(64 * 1024)),
                ..State::default()
            }),
            lines_waiting: Condvar::new(),
            lines_written: Condvar::new(),
            dropped_total: AtomicU64::new(0),
            capacity,
        });
        let writer = Arc::clone(&shared);
        thread::Builder::new()
            .name("log-writer".into())
            .spawn(move || writer.write_until_exit(output, &report))?;
        Ok(Self { shared })
    }

    /// Queues one complete line (its newline included); drops and counts it
    /// when the buffer is full. Never waits for the output.
    pub fn push(&self, line: &[u8]) {
        let mut state = self.shared.lock();
        if state.pending.len() + line.len() > self.shared.capacity {
            state.dropped_unreported += 1;
            drop(state);
            self.shared.dropped_total.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let wake = state.pending.is_empty() && state.writer_idle;
        state.pending.extend_from_slice(line);
        state.accepted_bytes += line.len() as u64;
        drop(state);
        if wake {
            self.shared.lines_waiting.notify_one();
        }
    }

    /// Lines lost since start (dropped, or failed to write).
    #[must_use]
    pub fn dropped_total(&self) -> u64 {
        self.shared.dropped_total.load(Ordering::Relaxed)
    }

    /// Waits until every line queued before this call is written, or until
    /// `deadline`, whichever comes first; `true` if everything was written.
    pub fn flush(&self, deadline: Instant) -> bool {
        let shared = &self.shared;
        let mut state = shared.lock();
        let target = state.accepted_bytes;
        while state.done_bytes < target {
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                return false;
            };
            state.flush_waiting = true;
            shared.lines_waiting.notify_one();
            state = shared
                .lines_written
                .wait_timeout(state, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        true
    }
}

impl Shared {
    /// A panic while holding the lock cannot leave the state inconsistent
    /// (only counters and a byte buffer), so a poisoned lock is used as is.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn write_until_exit(&self, mut output: impl Write, report: &dyn Fn(&mut Vec<u8>, u64)) {
        let mut batch = Vec::new();
        let mut report_line = Vec::new();
        loop {
            let dropped = {
                let mut state = self.lock();
                while state.pending.is_empty() && state.dropped_unreported == 0 {
                    state.writer_idle = true;
                    state = self
                        .lines_waiting
                        .wait(state)
                        .unwrap_or_else(PoisonError::into_inner);
                }
                state.writer_idle = false;
                std::mem::swap(&mut batch, &mut state.pending);
                std::mem::take(&mut state.dropped_unreported)
            };

            // The lines before the loss, then the count of what was lost.
            let mut written = write_all(&mut output, &batch);
            if dropped > 0 && written {
                report_line.clear();
                report(&mut report_line, dropped);
                written = write_all(&mut output, &report_line);
            }
            let mut state = self.lock();
            if !written {
                // Rare, and the batch is small: no crate for counting bytes.
                #[allow(clippy::naive_bytecount)]
                let lost = batch.iter().filter(|&&byte| byte == b'\n').count() as u64;
                state.dropped_unreported += dropped + lost;
                self.dropped_total.fetch_add(lost, Ordering::Relaxed);
            }
            state.done_bytes += batch.len() as u64;
            batch.clear();
            self.lines_written.notify_all();
            if !std::mem::take(&mut state.flush_waiting) {
                // Let lines gather; a flush that comes meanwhile cuts this short.
                let pause = if written { GATHER } else { RETRY_PAUSE };
                drop(
                    self.lines_waiting
                        .wait_timeout(state, pause)
                        .unwrap_or_else(PoisonError::into_inner),
                );
            }
        }
    }
}

/// Writes `bytes` whole; `false` if the output failed (the lines are lost).
fn write_all(output: &mut impl Write, bytes: &[u8]) -> bool {
    bytes.is_empty()
        || output
            .write_all(bytes)
            .and_then(|()| output.flush())
            .is_ok()
}

#[cfg(test)]
mod tests {
    use std::io;
    use std::sync::mpsc;

    use super::*;

    /// An output that stalls until told to go on, like a pipe nobody reads.
    struct StalledOutput {
        go_on: mpsc::Receiver<()>,
        written: Arc<Mutex<Vec<u8>>>,
        stalled: bool,
    }

    impl Write for StalledOutput {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if self.stalled {
                let _ = self.go_on.recv();
                self.stalled = false;
            }
            self.written.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn report(line: &mut Vec<u8>, dropped: u64) {
        line.extend_from_slice(format!("dropped {dropped}\n").as_bytes());
    }

    fn soon() -> Instant {
        Instant::now() + Duration::from_secs(5)
    }

    #[test]
    fn a_stalled_output_drops_and_counts_lines_then_reports_them_first() {
        let (go_on, stalled) = mpsc::channel();
        let written = Arc::new(Mutex::new(Vec::new()));
        let output = StalledOutput {
            go_on: stalled,
            written: Arc::clone(&written),
            stalled: true,
        };
        // Room for ten lines of ten bytes.
        let buffer = LogBuffer::start(output, 100, report).unwrap();

        // The writer takes the first line and stalls on it; ten more fill the
        // buffer; the next 25 are dropped, without waiting.
        buffer.push(b"first 000\n");
        while !buffer.shared.lock().pending.is_empty() {
            thread::yield_now();
        }
        let started = Instant::now();
        for n in 0..35 {
            buffer.push(format!("line {n:04}\n").as_bytes());
        }
        assert!(started.elapsed() < Duration::from_secs(1));
        assert_eq!(buffer.dropped_total(), 25);
        assert!(!buffer.flush(Instant::now() + Duration::from_millis(50)));

        go_on.send(()).unwrap();
        assert!(buffer.flush(soon()));
        buffer.push(b"after\n");
        assert!(buffer.flush(soon()));

        let text = String::from_utf8(written.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let kept: Vec<String> = (0..10).map(|n| format!("line {n:04}")).collect();
        assert_eq!(lines[0], "first 000");
        assert_eq!(lines[1..11], kept[..]);
        assert_eq!(lines[11..], ["dropped 25", "after"]);
        assert_eq!(buffer.dropped_total(), 25);
    }

    #[test]
    fn a_failing_output_counts_its_lines_as_dropped() {
        struct Broken;
        impl Write for Broken {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Err(io::ErrorKind::BrokenPipe.into())
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let buffer = LogBuffer::start(Broken, 1024, report).unwrap();
        buffer.push(b"one\n");
        buffer.push(b"two\n");
        assert!(buffer.flush(soon()));
        assert_eq!(buffer.dropped_total(), 2);
    }

    #[test]
    fn flush_returns_at_the_deadline_when_the_output_never_moves() {
        let (_never, stalled) = mpsc::channel();
        let output = StalledOutput {
            go_on: stalled,
            written: Arc::default(),
            stalled: true,
        };
        let buffer = LogBuffer::start(output, 1024, report).unwrap();
        buffer.push(b"stuck\n");
        let started = Instant::now();
        assert!(!buffer.flush(started + Duration::from_millis(200)));
        let waited = started.elapsed();
        assert!(waited >= Duration::from_millis(200) && waited < Duration::from_secs(2));
    }
}
