//! Group commit: rows sent by many requests are written together, in one transaction, by one
//! writer thread, and each request answers only once its row is committed. While the writer
//! commits one batch (on SQLite an fsync), the rows that arrive queue up and go in the next,
//! so concurrent requests share one commit instead of waiting for one each. Used for the
//! audit entries of case reads.

use std::sync::mpsc;

use chrono::NaiveDateTime;
use diesel::QueryResult;
use tokio::sync::oneshot;

use super::{ConnectionManager, DbConnection, DbError};

/// The most rows one transaction writes.
pub const MAX_BATCH: usize = 256;

/// The audit entry of one read (a case viewed), to be appended to the chain.
#[derive(Debug, Clone)]
pub struct ReadAudit {
    pub at: NaiveDateTime,
    pub actor_id: String,
    pub actor_role: String,
    pub action: &'static str,
    pub case_id: String,
    pub detail: serde_json::Value,
}

/// What the writer answers: committed, or why not (the database unavailable: 503).
type Reply = Result<(), (bool, String)>;

/// The sending side; the writer thread ends when every clone is dropped.
pub struct GroupCommit<T> {
    queue: mpsc::Sender<(T, oneshot::Sender<Reply>)>,
}

impl<T: Send + 'static> GroupCommit<T> {
    /// Starts the writer thread: it takes the first row waiting and every row queued behind
    /// it (up to [`MAX_BATCH`]) and has `write` commit them together (`write` makes its own
    /// transaction, or one statement), on its own connection (not the pool's: requests
    /// waiting for it may hold every pooled one).
    pub fn start<W>(
        name: &str,
        manager: ConnectionManager,
        mut write: W,
    ) -> std::io::Result<GroupCommit<T>>
    where
        W: FnMut(&mut DbConnection, Vec<T>) -> QueryResult<()> + Send + 'static,
    {
        let (queue, rx) = mpsc::channel::<(T, oneshot::Sender<Reply>)>();
        std::thread::Builder::new()
            .name(name.to_string())
            .spawn(move || {
                let mut conn: Option<DbConnection> = None;
                while let Ok(first) = rx.recv() {
                    let mut jobs = vec![first];
                    while jobs.len() < MAX_BATCH {
                        match rx.try_recv() {
                            Ok(job) => jobs.push(job),
                            Err(_) => break,
                        }
                    }
                    let (rows, replies): (Vec<T>, Vec<_>) = jobs.into_iter().unzip();
                    if conn.is_none() {
                        conn = manager.connect().ok();
                    }
                    let reply: Reply = match conn.as_mut() {
                        Some(c) => {
                            write(c, rows).map_err(|e| (super::is_unavailable(&e), e.to_string()))
                        }
                        None => Err((true, "cannot connect to the database".into())),
                    };
                    if reply.as_ref().is_err_and(|(unavailable, _)| *unavailable) {
                        // Connect again for the next batch.
                        conn = None;
                    }
                    for r in replies {
                        let _ = r.send(reply.clone());
                    }
                }
            })?;
        Ok(GroupCommit { queue })
    }

    /// Queues `row` and waits until it is committed.
    pub async fn submit(&self, row: T) -> Result<(), DbError> {
        self.enqueue(row)?.committed().await
    }

    /// Queues `row` for the next commit now, and returns at once: the caller does its other
    /// work (a page's rendering) while the row is written, then waits with
    /// [`Queued::committed`] before it answers.
    pub fn enqueue(&self, row: T) -> Result<Queued, DbError> {
        Ok(Queued(self.queue(row)?))
    }

    /// As [`GroupCommit::submit`], from a blocking thread (not from async code).
    pub fn submit_blocking(&self, row: T) -> Result<(), DbError> {
        let rx = self.queue(row)?;
        answer(rx.blocking_recv())
    }

    fn queue(&self, row: T) -> Result<oneshot::Receiver<Reply>, DbError> {
        let (tx, rx) = oneshot::channel();
        self.queue
            .send((row, tx))
            .map_err(|_| DbError::Connect("the group-commit writer has stopped".into()))?;
        Ok(rx)
    }
}

/// A row queued by [`GroupCommit::enqueue`].
#[must_use = "answer only once the row is committed"]
pub struct Queued(oneshot::Receiver<Reply>);

impl Queued {
    /// Waits until the row is committed (or its batch failed).
    pub async fn committed(self) -> Result<(), DbError> {
        answer(self.0.await)
    }
}

fn answer(reply: Result<Reply, oneshot::error::RecvError>) -> Result<(), DbError> {
    match reply {
        Ok(Ok(())) => Ok(()),
        Ok(Err((true, _))) => Err(DbError::Down),
        Ok(Err((false, message))) => Err(DbError::Connect(message)),
        Err(_) => Err(DbError::Connect(
            "the group-commit writer has stopped".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::time::Duration;

    use super::*;

    static BATCHES: Mutex<Vec<usize>> = Mutex::new(vec![]);

    /// A slow commit: rows sent meanwhile must wait, and then go together.
    fn write(_: &mut DbConnection, rows: Vec<u32>) -> QueryResult<()> {
        BATCHES.lock().unwrap().push(rows.len());
        std::thread::sleep(Duration::from_millis(100));
        Ok(())
    }

    #[tokio::test]
    async fn rows_sent_during_a_commit_are_committed_together() {
        let dir = tempfile::tempdir().unwrap();
        let mut settings = crate::config::Settings::defaults().database;
        settings.url = format!("sqlite://{}", dir.path().join("g.db").display());
        let writer = GroupCommit::start(
            "test-writer",
            ConnectionManager::new(&settings).unwrap(),
            write,
        )
        .unwrap();
        let sent = futures_util::future::join_all((0..40).map(|n| writer.submit(n))).await;
        assert!(sent.iter().all(Result::is_ok), "{sent:?}");
        let batches = BATCHES.lock().unwrap().clone();
        assert_eq!(batches.iter().sum::<usize>(), 40);
        // The first row alone (nothing was waiting), then the 39 sent while it committed.
        assert!(batches.len() <= 3, "{batches:?}");
    }
}
