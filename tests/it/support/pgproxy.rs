//! A TCP relay between the application and PostgreSQL that a test can cut (as if the server
//! stopped: connections reset, new ones refused) and restore on the same port. It runs on a
//! thread and runtime of its own, so it relays while the test's thread blocks (start-up).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Handle;
use tokio::task::JoinHandle;

pub struct PgProxy {
    pub addr: SocketAddr,
    target: String,
    handle: Handle,
    tasks: Arc<Mutex<Vec<JoinHandle<()>>>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl PgProxy {
    /// Relays a free loopback port to `target` (`host:port`).
    pub async fn start(target: &str) -> PgProxy {
        let (tx, rx) = std::sync::mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            tx.send(rt.handle().clone()).unwrap();
            rt.block_on(async {
                let _ = stopped.await;
            });
        });
        let handle = rx.recv().unwrap();
        let listener = handle
            .spawn(async { TcpListener::bind("127.0.0.1:0").await.unwrap() })
            .await
            .unwrap();
        let proxy = PgProxy {
            addr: listener.local_addr().unwrap(),
            target: target.to_string(),
            handle,
            tasks: Arc::new(Mutex::new(vec![])),
            stop: Some(stop),
        };
        proxy.serve(listener);
        proxy
    }

    fn serve(&self, listener: TcpListener) {
        let target = self.target.clone();
        let tasks = self.tasks.clone();
        let handle = self.handle.clone();
        let acceptor = self.handle.spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    continue;
                };
                let target = target.clone();
                let relay = handle.spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(&target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                tasks.lock().unwrap().push(relay);
            }
        });
        self.tasks.lock().unwrap().push(acceptor);
    }

    /// The database "goes down": the port stops listening and every connection is cut.
    pub fn cut(&self) {
        for t in self.tasks.lock().unwrap().drain(..) {
            t.abort();
        }
    }

    /// The database "comes back" on the same port.
    pub async fn restore(&self) {
        let addr = self.addr;
        let listener = self
            .handle
            .spawn(async move { TcpListener::bind(addr).await.expect("rebind") })
            .await
            .unwrap();
        self.serve(listener);
    }
}

impl Drop for PgProxy {
    fn drop(&mut self) {
        self.cut();
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
