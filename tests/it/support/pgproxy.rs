//! A TCP relay between the application and PostgreSQL that a test can cut (as if the server
//! stopped: connections reset, new ones refused) and restore on the same port.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use actix_web::rt::task::JoinHandle;
use tokio::net::{TcpListener, TcpStream};

pub struct PgProxy {
    pub addr: SocketAddr,
    target: String,
    tasks: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl PgProxy {
    /// Relays a free loopback port to `target` (`host:port`).
    pub async fn start(target: &str) -> PgProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let proxy = PgProxy {
            addr: listener.local_addr().unwrap(),
            target: target.to_string(),
            tasks: Arc::new(Mutex::new(vec![])),
        };
        proxy.serve(listener);
        proxy
    }

    fn serve(&self, listener: TcpListener) {
        let target = self.target.clone();
        let tasks = self.tasks.clone();
        let acceptor = actix_web::rt::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    continue;
                };
                let target = target.clone();
                let relay = actix_web::rt::spawn(async move {
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
        let listener = TcpListener::bind(self.addr).await.expect("rebind");
        self.serve(listener);
    }
}

impl Drop for PgProxy {
    fn drop(&mut self) {
        self.cut();
    }
}
