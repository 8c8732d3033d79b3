//! Sealed files: a header, then the content in 64 KiB chunks, each sealed with AES-256-GCM under
//! the file's data key in the STREAM construction (`aead::stream`, big-endian 32-bit counter
//! and a last-chunk flag in the nonce), so a chunk cannot be dropped, reordered or the file cut
//! short without it failing to open.
//!
//! Header (83 bytes): `LCSPRE01`, the master key id (8 bytes), the wrapped data key (60 bytes),
//! the nonce prefix (7 bytes). Re-wrapping for a new master key replaces the header only.
//!
//! [`Sealer`] and [`Opener`] take bytes as they come and give back what can be written, so the
//! document store, exports and imports all stream. A file without the header (written before
//! encryption at rest) opens as it is.

use aes_gcm::aead::stream::{DecryptorBE32, EncryptorBE32};
use aes_gcm::Aes256Gcm;

use super::{CryptoError, Keyring, KEY_ID_LEN, WRAPPED_LEN};

pub const MAGIC: &[u8; 8] = b"LCSPRE01";
const PREFIX_LEN: usize = 7;
pub const HEADER_LEN: usize = MAGIC.len() + KEY_ID_LEN + WRAPPED_LEN + PREFIX_LEN;
/// Plaintext bytes per chunk.
pub const CHUNK: usize = 64 * 1024;
const TAG: usize = 16;

/// Seals a file as its bytes arrive.
pub struct Sealer {
    header: Option<Vec<u8>>,
    encryptor: EncryptorBE32<Aes256Gcm>,
    buf: Vec<u8>,
}

impl Sealer {
    pub fn new(keys: &Keyring) -> Sealer {
        let (dk, wrapped) = keys.new_data_key();
        let prefix: [u8; PREFIX_LEN] = rand::random();
        let mut header = Vec::with_capacity(HEADER_LEN);
        header.extend_from_slice(MAGIC);
        header.extend_from_slice(&keys.current().raw_id());
        header.extend_from_slice(&wrapped);
        header.extend_from_slice(&prefix);
        Sealer {
            header: Some(header),
            encryptor: EncryptorBE32::from_aead(dk.cipher(), &prefix.into()),
            buf: Vec::with_capacity(CHUNK),
        }
    }

    /// Takes more content; returns the sealed bytes ready to be written (the header first).
    pub fn push(&mut self, mut data: &[u8]) -> Vec<u8> {
        let mut out = self.header.take().unwrap_or_default();
        while !data.is_empty() {
            // A full chunk is sealed only once more content follows it: the last chunk (full or
            // not) is sealed by `finish`, flagged as the last.
            if self.buf.len() == CHUNK {
                out.extend(
                    self.encryptor
                        .encrypt_next(self.buf.as_slice())
                        .expect("AES-GCM seals a chunk"),
                );
                self.buf.clear();
            }
            let take = (CHUNK - self.buf.len()).min(data.len());
            self.buf.extend_from_slice(&data[..take]);
            data = &data[take..];
        }
        out
    }

    /// Seals the last chunk; returns the remaining bytes.
    pub fn finish(mut self) -> Vec<u8> {
        let mut out = self.header.take().unwrap_or_default();
        out.extend(
            self.encryptor
                .encrypt_last(self.buf.as_slice())
                .expect("AES-GCM seals a chunk"),
        );
        out
    }
}

/// What the first bytes of a stored file say it is.
pub enum Header {
    /// Sealed under this master key id.
    Sealed([u8; KEY_ID_LEN]),
    /// Written before encryption at rest.
    Plain,
    /// Too short to tell yet.
    Unknown,
}

/// Reads the header at the start of `bytes`.
pub fn header(bytes: &[u8], complete: bool) -> Header {
    let n = bytes.len().min(MAGIC.len());
    if bytes[..n] != MAGIC[..n] {
        Header::Plain
    } else if bytes.len() >= MAGIC.len() + KEY_ID_LEN {
        Header::Sealed(
            bytes[MAGIC.len()..MAGIC.len() + KEY_ID_LEN]
                .try_into()
                .expect("8 bytes"),
        )
    } else if complete {
        Header::Plain
    } else {
        Header::Unknown
    }
}

/// The header with its data key wrapped by the current master key instead.
pub fn rewrap_header(keys: &Keyring, header: &[u8]) -> Result<Vec<u8>, CryptoError> {
    if header.len() != HEADER_LEN || &header[..MAGIC.len()] != MAGIC {
        return Err(CryptoError::Damaged);
    }
    let id = &header[MAGIC.len()..MAGIC.len() + KEY_ID_LEN];
    let wrapped_at = MAGIC.len() + KEY_ID_LEN;
    let wrapped = keys.rewrap(id, &header[wrapped_at..wrapped_at + WRAPPED_LEN])?;
    let mut out = header.to_vec();
    out[MAGIC.len()..wrapped_at].copy_from_slice(&keys.current().raw_id());
    out[wrapped_at..wrapped_at + WRAPPED_LEN].copy_from_slice(&wrapped);
    Ok(out)
}

enum State {
    /// The first bytes, until the header can be read.
    Start(Vec<u8>),
    Plain,
    Sealed {
        decryptor: Box<DecryptorBE32<Aes256Gcm>>,
        buf: Vec<u8>,
    },
}

/// Opens a stored file as its bytes arrive (sealed or, without the header, as it is).
pub struct Opener {
    keys: Keyring,
    state: State,
}

impl Opener {
    pub fn new(keys: Keyring) -> Opener {
        Opener {
            keys,
            state: State::Start(Vec::new()),
        }
    }

    /// Takes more stored bytes; returns the content that can be given out (authenticated).
    pub fn push(&mut self, data: &[u8]) -> Result<Vec<u8>, CryptoError> {
        match &mut self.state {
            State::Plain => Ok(data.to_vec()),
            State::Start(start) => {
                start.extend_from_slice(data);
                match header(start, false) {
                    Header::Unknown => Ok(vec![]),
                    Header::Plain => {
                        let out = std::mem::take(start);
                        self.state = State::Plain;
                        Ok(out)
                    }
                    Header::Sealed(_) if start.len() < HEADER_LEN => Ok(vec![]),
                    Header::Sealed(id) => {
                        let wrapped_at = MAGIC.len() + KEY_ID_LEN;
                        let dk = self
                            .keys
                            .unwrap(&id, &start[wrapped_at..wrapped_at + WRAPPED_LEN])?;
                        let prefix: [u8; PREFIX_LEN] = start[wrapped_at + WRAPPED_LEN..HEADER_LEN]
                            .try_into()
                            .expect("7 bytes");
                        let decryptor = DecryptorBE32::from_aead(dk.cipher(), &prefix.into());
                        let rest = start[HEADER_LEN..].to_vec();
                        self.state = State::Sealed {
                            decryptor: Box::new(decryptor),
                            buf: Vec::with_capacity(CHUNK + TAG),
                        };
                        self.push(&rest)
                    }
                }
            }
            State::Sealed { decryptor, buf } => {
                let mut out = vec![];
                let mut data = data;
                while !data.is_empty() {
                    // As when sealing: a full chunk is opened once more follows it.
                    if buf.len() == CHUNK + TAG {
                        out.extend(
                            decryptor
                                .decrypt_next(buf.as_slice())
                                .map_err(|_| CryptoError::Damaged)?,
                        );
                        buf.clear();
                    }
                    let take = (CHUNK + TAG - buf.len()).min(data.len());
                    buf.extend_from_slice(&data[..take]);
                    data = &data[take..];
                }
                Ok(out)
            }
        }
    }

    /// The end of the stored bytes: opens the last chunk (a file cut short fails here).
    pub fn finish(self) -> Result<Vec<u8>, CryptoError> {
        match self.state {
            State::Plain => Ok(vec![]),
            State::Start(start) => match header(&start, true) {
                Header::Sealed(_) => Err(CryptoError::Damaged),
                _ => Ok(start),
            },
            State::Sealed { decryptor, buf } => decryptor
                .decrypt_last(buf.as_slice())
                .map_err(|_| CryptoError::Damaged),
        }
    }
}

/// Seals a whole buffer (tests and small files).
pub fn seal_all(keys: &Keyring, data: &[u8]) -> Vec<u8> {
    let mut s = Sealer::new(keys);
    let mut out = s.push(data);
    out.extend(s.finish());
    out
}

/// Opens a whole buffer (tests and small files).
pub fn open_all(keys: &Keyring, data: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let mut o = Opener::new(keys.clone());
    let mut out = o.push(data)?;
    out.extend(o.finish()?);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::MasterKey;

    fn ring() -> Keyring {
        Keyring::new(MasterKey::generate().1)
    }

    fn content(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i * 31 % 251) as u8).collect()
    }

    #[test]
    fn round_trips_at_every_chunk_boundary_in_pieces_of_any_size() {
        let keys = ring();
        for n in [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 3 * CHUNK + 17] {
            let plain = content(n);
            for piece in [1000, 7, CHUNK, CHUNK + 5] {
                let mut s = Sealer::new(&keys);
                let mut sealed = vec![];
                for p in plain.chunks(piece) {
                    sealed.extend(s.push(p));
                }
                sealed.extend(s.finish());
                let chunks = n.div_ceil(CHUNK).max(1);
                assert_eq!(sealed.len(), HEADER_LEN + n + chunks * TAG);
                let mut o = Opener::new(keys.clone());
                let mut opened = vec![];
                for p in sealed.chunks(piece + 3) {
                    opened.extend(o.push(p).unwrap());
                }
                opened.extend(o.finish().unwrap());
                assert_eq!(opened, plain, "{n} bytes in pieces of {piece}");
            }
        }
    }

    #[test]
    fn a_changed_reordered_or_cut_file_does_not_open() {
        let keys = ring();
        let plain = content(3 * CHUNK);
        let sealed = seal_all(&keys, &plain);
        let mut flipped = sealed.clone();
        flipped[HEADER_LEN + CHUNK + 40] ^= 1;
        assert!(open_all(&keys, &flipped).is_err());
        let cut = &sealed[..HEADER_LEN + 2 * (CHUNK + TAG)];
        assert!(open_all(&keys, cut).is_err(), "cut at a chunk boundary");
        let mut swapped = sealed[..HEADER_LEN].to_vec();
        swapped
            .extend_from_slice(&sealed[HEADER_LEN + CHUNK + TAG..HEADER_LEN + 2 * (CHUNK + TAG)]);
        swapped.extend_from_slice(&sealed[HEADER_LEN..HEADER_LEN + CHUNK + TAG]);
        swapped.extend_from_slice(&sealed[HEADER_LEN + 2 * (CHUNK + TAG)..]);
        assert!(open_all(&keys, &swapped).is_err());
        assert!(open_all(&ring(), &sealed).is_err(), "another master key");
    }

    #[test]
    fn plain_files_open_as_they_are() {
        let keys = ring();
        for plain in [
            &b""[..],
            b"%PDF-1.7 ...",
            b"LCS",
            b"hello world, a longer text file",
        ] {
            assert_eq!(open_all(&keys, plain).unwrap(), plain);
        }
    }

    #[test]
    fn a_rewrapped_header_opens_the_same_body_under_the_new_key() {
        let (old_bytes, old) = MasterKey::generate();
        let before = Keyring::new(old);
        let plain = content(CHUNK + 10);
        let sealed = seal_all(&before, &plain);
        let after = Keyring::new(MasterKey::generate().1).with(MasterKey::from_bytes(old_bytes));
        let mut moved = rewrap_header(&after, &sealed[..HEADER_LEN]).unwrap();
        moved.extend_from_slice(&sealed[HEADER_LEN..]);
        let Header::Sealed(id) = header(&moved, true) else {
            panic!("sealed")
        };
        assert_eq!(id, after.current().raw_id());
        let only_new = Keyring::new(MasterKey::generate().1);
        assert!(open_all(&only_new, &moved).is_err());
        assert_eq!(open_all(&after, &moved).unwrap(), plain);
    }
}
