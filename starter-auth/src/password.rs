//! Password hashing: argon2id, PHC strings, always on the blocking pool.
//!
//! argon2 is deliberately slow (tens of milliseconds) and memory-hard; run on an async
//! worker it would stall every other request on that thread, so each call goes through
//! `spawn_blocking`.
//!
//! At most [`default_max_concurrent`] hashes run at once (one less than the CPUs, at least
//! one); the rest wait their turn asynchronously. More at once would not log anyone in
//! sooner, since each hash keeps a CPU busy, but would take a CPU from the async workers
//! (every other request, health checks included, would slow down) and `m` KiB of memory
//! each: a flood of logins from many addresses could otherwise hold gigabytes.
//!
//! At most `max_queued` calls wait for a slot (`auth.argon2_max_queued`); one more fails
//! at once with [`Busy`] (the router answers 503 with `Retry-After`) instead of piling up
//! requests that would time out anyway.

use std::sync::{
    Arc, Mutex,
    atomic::{AtomicUsize, Ordering},
};

use argon2::{
    Algorithm, Argon2, Block, Params, PasswordHash, Version,
    password_hash::{self, Output, ParamsString, Salt, SaltString, rand_core::OsRng},
};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::{OnceCell, OwnedSemaphorePermit, Semaphore};

use crate::settings::AuthSettings;

/// Argon2's working memory (`m` KiB per hash), allocated once per hashing slot and reused.
///
/// Why: allocated per hash (what argon2's own `hash_password` does), the process grew from
/// 34 MiB RSS idle to 245 MiB after 10 s of saturated logins (release, 53 logins/s), and
/// still 206 MiB with `MALLOC_ARENA_MAX=1`: glibc keeps freed 19 MiB blocks in its heap
/// rather than returning them. Only callers holding a permit use a buffer, so there are at
/// most as many buffers as hashing slots.
#[derive(Clone, Default)]
struct Memory(Arc<Mutex<Vec<Vec<Block>>>>);

impl Memory {
    /// Runs `work` with a buffer of at least `blocks` blocks.
    fn with<R>(&self, blocks: usize, work: impl FnOnce(&mut [Block]) -> R) -> R {
        let spare = self.0.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let mut buffer = spare.unwrap_or_default();
        if buffer.len() < blocks {
            buffer.resize(blocks, Block::default());
        }
        let result = work(&mut buffer);
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(buffer);
        result
    }
}

/// The PHC hash of `password` with these parameters and salt, as argon2's
/// `PasswordHasher::hash_password` computes it, in the working memory of `memory`.
fn compute<'a>(
    algorithm: Algorithm,
    version: Version,
    params: Params,
    memory: &Memory,
    password: &[u8],
    salt: Salt<'a>,
) -> password_hash::Result<PasswordHash<'a>> {
    let mut salt_bytes = [0u8; 64];
    let salt_bytes = salt.decode_b64(&mut salt_bytes)?;
    let output_len = params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN);
    let params_string = ParamsString::try_from(&params)?;
    let argon2 = Argon2::new(algorithm, version, params);
    let output = memory.with(argon2.params().block_count(), |blocks| {
        Output::init_with(output_len, |out| {
            Ok(argon2.hash_password_into_with_memory(password, salt_bytes, out, blocks)?)
        })
    })?;
    Ok(PasswordHash {
        algorithm: algorithm.ident(),
        version: Some(version.into()),
        params: params_string,
        salt: Some(salt),
        hash: Some(output),
    })
}

/// Whether `password` hashes to `stored` (with its own algorithm, version, parameters and
/// salt), compared in constant time (`Output`'s equality).
fn matches(stored: &PasswordHash<'_>, memory: &Memory, password: &[u8]) -> bool {
    let (Some(salt), Some(expected)) = (stored.salt, &stored.hash) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(stored.algorithm) else {
        return false;
    };
    let version = match stored.version.map(Version::try_from).transpose() {
        Ok(version) => version.unwrap_or_default(),
        Err(_) => return false,
    };
    let Ok(params) = Params::try_from(stored) else {
        return false;
    };
    compute(algorithm, version, params, memory, password, salt)
        .is_ok_and(|computed| computed.hash.as_ref() == Some(expected))
}

/// argon2 parameters from settings.
pub fn params(settings: &AuthSettings) -> Result<Params, argon2::Error> {
    Params::new(
        settings.argon2_memory_kib,
        settings.argon2_iterations,
        settings.argon2_parallelism,
        None,
    )
}

/// The outcome of [`Passwords::verify`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verified {
    /// Wrong password (or a stored hash that cannot be read).
    No,
    /// Right password, hash up to date.
    Yes,
    /// Right password, but hashed with other parameters: store a new hash now.
    YesRehash,
}

/// Hashes and verifies passwords with one set of argon2id parameters. Cheap to clone.
#[derive(Clone)]
pub struct Passwords {
    params: Params,
    /// A hash of a random password, verified against when the account does not exist,
    /// so an unknown email costs the same time as a wrong password.
    dummy: Arc<OnceCell<String>>,
    /// Bounds the hashes running at once (see the module docs).
    permits: Arc<Semaphore>,
    /// Argon2's working memory, reused from hash to hash.
    memory: Memory,
    /// Calls waiting for a permit, and how many may.
    waiting: Arc<AtomicUsize>,
    max_queued: usize,
}

/// Every hashing slot is taken and the queue for them is full: answer 503, retry soon.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("every password-hashing slot is busy and the queue is full")]
pub struct Busy;

/// How many calls may wait for a hashing slot by default.
pub const DEFAULT_MAX_QUEUED: usize = 64;

/// Decrements the waiting count when the waiter is done (or cancelled).
struct Waiting(Arc<AtomicUsize>);

impl Drop for Waiting {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// How many hashes run at once by default: the CPUs minus one (for the async workers),
/// at least one.
pub fn default_max_concurrent() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |cpus| cpus.get().saturating_sub(1))
        .max(1)
}

impl Passwords {
    pub fn new(params: Params) -> Self {
        Self {
            params,
            dummy: Arc::new(OnceCell::new()),
            permits: Arc::new(Semaphore::new(default_max_concurrent())),
            memory: Memory::default(),
            waiting: Arc::new(AtomicUsize::new(0)),
            max_queued: DEFAULT_MAX_QUEUED,
        }
    }

    /// Lets at most `max` calls wait for a slot; more get [`Busy`] at once.
    pub fn with_max_queued(mut self, max: usize) -> Self {
        self.max_queued = max;
        self
    }

    /// A hashing slot, waiting in the bounded queue if needed.
    async fn permit(&self) -> Result<OwnedSemaphorePermit, Busy> {
        if let Ok(permit) = self.permits.clone().try_acquire_owned() {
            return Ok(permit);
        }
        let ahead = self.waiting.fetch_add(1, Ordering::AcqRel);
        let _waiting = Waiting(self.waiting.clone());
        if ahead >= self.max_queued {
            return Err(Busy);
        }
        // The semaphore is never closed, so `acquire` cannot fail.
        self.permits.clone().acquire_owned().await.map_err(|_| Busy)
    }

    /// Lets `max` hashes run at once instead of [`default_max_concurrent`] (at least 1).
    pub fn with_max_concurrent(mut self, max: usize) -> Self {
        self.permits = Arc::new(Semaphore::new(max.max(1)));
        self
    }

    pub fn from_settings(settings: &AuthSettings) -> anyhow::Result<Self> {
        let passwords = Self::new(
            params(settings)
                .map_err(|e| anyhow::anyhow!("auth.argon2_*: invalid argon2 parameters: {e}"))?,
        )
        .with_max_queued(settings.argon2_max_queued);
        Ok(match settings.argon2_max_concurrent {
            Some(max) => passwords.with_max_concurrent(max),
            None => passwords,
        })
    }

    /// The PHC string (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`) of `password`. The
    /// error is [`Busy`] (downcast it) when the queue is full.
    pub async fn hash(&self, password: &SecretString) -> anyhow::Result<String> {
        let params = self.params.clone();
        let password = password.clone();
        let permit = self.permit().await?;
        let memory = self.memory.clone();
        tokio::task::spawn_blocking(move || {
            let _permit = permit; // held until the hash is done
            let salt = SaltString::generate(&mut OsRng);
            compute(
                Algorithm::Argon2id,
                Version::V0x13,
                params,
                &memory,
                password.expose_secret().as_bytes(),
                salt.as_salt(),
            )
            .map(|hash| hash.to_string())
            .map_err(|e| anyhow::anyhow!("argon2 hashing failed: {e}"))
        })
        .await?
    }

    /// Checks `password` against the PHC string `stored`; [`Busy`] when the queue is full.
    pub async fn verify(&self, password: &SecretString, stored: &str) -> Result<Verified, Busy> {
        let params = self.params.clone();
        let password = password.clone();
        let stored = stored.to_owned();
        let permit = self.permit().await?;
        let memory = self.memory.clone();
        Ok(tokio::task::spawn_blocking(move || {
            let _permit = permit; // held until the verification is done
            let Ok(hash) = PasswordHash::new(&stored) else {
                tracing::error!("a stored password hash is not a PHC string");
                return Verified::No;
            };
            // Algorithm and cost come from the PHC string itself.
            if !matches(&hash, &memory, password.expose_secret().as_bytes()) {
                return Verified::No;
            }
            let current = hash.algorithm == Algorithm::Argon2id.ident()
                && hash.version == Some(Version::V0x13.into())
                && Params::try_from(&hash).is_ok_and(|p| {
                    p.m_cost() == params.m_cost()
                        && p.t_cost() == params.t_cost()
                        && p.p_cost() == params.p_cost()
                });
            if current {
                Verified::Yes
            } else {
                Verified::YesRehash
            }
        })
        .await
        .unwrap_or(Verified::No))
    }

    /// Burns the time of one verification, for a login with an unknown email; [`Busy`]
    /// exactly when a real verification would be.
    pub async fn verify_dummy(&self, password: &SecretString) -> Result<(), Busy> {
        let dummy = self
            .dummy
            .get_or_try_init(|| async {
                let random = SecretString::from(crate::tokens::random_token());
                self.hash(&random).await
            })
            .await;
        match dummy {
            Ok(dummy) => self.verify(password, dummy).await.map(|_| ()),
            Err(err) if err.downcast_ref::<Busy>().is_some() => Err(Busy),
            Err(_) => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cheap(t: u32) -> Passwords {
        Passwords::new(Params::new(1024, t, 1, None).unwrap())
    }

    /// Hashing in reused memory gives what the argon2 crate's own hasher gives: each side
    /// verifies the other's hashes, and refuses a wrong password.
    #[tokio::test]
    async fn hashes_agree_with_the_argon2_crate() {
        use argon2::{PasswordHasher, PasswordVerifier};
        let passwords = cheap(2);
        let secret = SecretString::from("correct horse");
        let ours = passwords.hash(&secret).await.unwrap();
        let library = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(1024, 2, 1, None).unwrap(),
        );
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(library.verify_password(b"correct horse", &parsed).is_ok());
        assert!(library.verify_password(b"wrong horse", &parsed).is_err());

        let salt = SaltString::generate(&mut OsRng);
        let theirs = library
            .hash_password(b"correct horse", &salt)
            .unwrap()
            .to_string();
        // The same salt gives the same string.
        let again = compute(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(1024, 2, 1, None).unwrap(),
            &Memory::default(),
            b"correct horse",
            salt.as_salt(),
        )
        .unwrap()
        .to_string();
        assert_eq!(again, theirs);
        assert_eq!(passwords.verify(&secret, &theirs).await, Ok(Verified::Yes));
        let wrong = SecretString::from("wrong horse");
        assert_eq!(passwords.verify(&wrong, &theirs).await, Ok(Verified::No));
        // Other parameters (an older, cheaper hash) still verify, in a buffer that grows.
        let old = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(2048, 1, 1, None).unwrap(),
        )
        .hash_password(b"correct horse", &salt)
        .unwrap()
        .to_string();
        assert_eq!(
            passwords.verify(&secret, &old).await,
            Ok(Verified::YesRehash)
        );
    }

    #[tokio::test]
    async fn hashes_are_argon2id_phc_strings_that_verify() {
        let passwords = cheap(1);
        let secret = SecretString::from("correct horse");
        let hash = passwords.hash(&secret).await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"), "{hash}");
        assert_eq!(passwords.verify(&secret, &hash).await, Ok(Verified::Yes));
        assert_eq!(
            passwords
                .verify(&SecretString::from("wrong horse"), &hash)
                .await,
            Ok(Verified::No)
        );
        // Same password, new salt: a different hash.
        assert_ne!(passwords.hash(&secret).await.unwrap(), hash);
    }

    #[tokio::test]
    async fn a_hash_with_old_parameters_verifies_and_asks_for_a_rehash() {
        let secret = SecretString::from("correct horse");
        let old = cheap(1).hash(&secret).await.unwrap();
        assert_eq!(
            cheap(2).verify(&secret, &old).await,
            Ok(Verified::YesRehash)
        );
    }

    #[tokio::test]
    async fn hashing_waits_for_a_free_slot() {
        use futures_util::FutureExt;
        let passwords = cheap(1).with_max_concurrent(1);
        let secret = SecretString::from("correct horse");
        let stored = passwords.hash(&secret).await.unwrap();

        // The one slot is taken: neither a hash nor a verification can start.
        let slot = passwords.permits.clone().acquire_owned().await.unwrap();
        let mut hashing = Box::pin(passwords.hash(&secret));
        let mut verifying = Box::pin(passwords.verify(&secret, &stored));
        assert!(hashing.as_mut().now_or_never().is_none());
        assert!(verifying.as_mut().now_or_never().is_none());

        drop(slot);
        assert!(hashing.await.is_ok());
        assert_eq!(verifying.await, Ok(Verified::Yes));
        assert_eq!(passwords.permits.available_permits(), 1);
    }

    #[tokio::test]
    async fn beyond_the_queue_calls_fail_fast_with_busy() {
        use futures_util::FutureExt;
        let passwords = cheap(1).with_max_concurrent(1).with_max_queued(1);
        let secret = SecretString::from("correct horse");
        let stored = passwords.hash(&secret).await.unwrap();

        let slot = passwords.permits.clone().acquire_owned().await.unwrap();
        // One waits in the queue…
        let mut queued = Box::pin(passwords.verify(&secret, &stored));
        assert!(queued.as_mut().now_or_never().is_none());
        // …the next is refused at once.
        assert_eq!(
            passwords.verify(&secret, &stored).now_or_never(),
            Some(Err(Busy))
        );
        let refused = passwords.hash(&secret).now_or_never().expect("at once");
        assert!(refused.unwrap_err().downcast_ref::<Busy>().is_some());
        assert_eq!(
            passwords.verify_dummy(&secret).now_or_never(),
            Some(Err(Busy))
        );

        drop(slot);
        assert_eq!(queued.await, Ok(Verified::Yes));
        // The queue is empty again.
        assert_eq!(passwords.waiting.load(Ordering::Acquire), 0);
        assert_eq!(passwords.verify(&secret, &stored).await, Ok(Verified::Yes));
    }

    #[tokio::test]
    async fn garbage_in_the_database_never_verifies() {
        let secret = SecretString::from("correct horse");
        assert_eq!(
            cheap(1).verify(&secret, "not a phc string").await,
            Ok(Verified::No)
        );
    }
}
