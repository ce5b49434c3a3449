// SPDX-License-Identifier: GPL-2.0

//! KUnit tests for the resource manager: the revocation fence and its users.

use crate::prelude::*;

#[kunit_tests(rust_resmgr)]
mod tests {
    use super::super::{
        shell::Shell,
        Handle,
        Notice,
        Provider,
        RevokeNotify, //
    };
    use crate::{
        bindings,
        define_resource_registry,
        device::{
            Bound,
            Device, //
        },
        faux,
        new_mutex,
        prelude::*,
        sync::{
            completion::Completion,
            Arc,
            Mutex, //
        },
        time::{
            delay::fsleep,
            Delta, //
        },
        workqueue, //
    };
    use core::sync::atomic::{
        AtomicBool,
        AtomicU32,
        AtomicUsize,
        Ordering, //
    };

    /// An implementation that counts its drops and checks it is read while alive.
    struct Gadget {
        value: u32,
        alive: AtomicBool,
        drops: Arc<AtomicU32>,
    }

    impl Gadget {
        fn new(value: u32, drops: &Arc<AtomicU32>) -> Self {
            Self {
                value,
                alive: AtomicBool::new(true),
                drops: drops.clone(),
            }
        }

        /// Returns the value, or [`DEAD`] if the gadget has been dropped.
        ///
        /// A use-after-drop sees `alive == false` (or KASAN reports it); the callers compare
        /// the value, so a violation fails the case instead of panicking in a worker.
        fn read(&self) -> u32 {
            if self.alive.load(Ordering::Relaxed) {
                self.value
            } else {
                DEAD
            }
        }
    }

    impl Drop for Gadget {
        fn drop(&mut self) {
            self.alive.store(false, Ordering::Relaxed);
            self.drops.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// What [`Gadget::read`] returns after the gadget was dropped.
    const DEAD: u32 = u32::MAX;

    fn counter() -> Result<Arc<AtomicU32>> {
        Ok(Arc::new(AtomicU32::new(0), GFP_KERNEL)?)
    }

    #[test]
    fn access_before_and_after_revoke() -> Result {
        let drops = counter()?;
        let provider = Provider::new(Gadget::new(7, &drops))?;
        let handle = provider.handle();
        assert_eq!(handle.access()?.read(), 7);
        assert_eq!(handle.with(|i| i.read())?, 7);
        assert!(!handle.is_revoked());

        provider.revoke();
        assert_eq!(drops.load(Ordering::Relaxed), 1);
        assert!(handle.is_revoked());
        assert_eq!(handle.access().err(), Some(ENODEV));
        assert_eq!(handle.with(|i| i.read()), Err(ENODEV));
        Ok(())
    }

    #[test]
    fn revoke_is_idempotent() -> Result {
        let drops = counter()?;
        let shell = Shell::new(Gadget::new(1, &drops))?;
        assert!(shell.revoke());
        assert!(!shell.revoke());
        assert!(!shell.revoke());
        assert_eq!(drops.load(Ordering::Relaxed), 1);
        Ok(())
    }

    #[test]
    fn handles_outlive_provider_in_every_order() -> Result {
        // Provider first, then the handles in creation order.
        let drops = counter()?;
        let provider = Provider::new(Gadget::new(1, &drops))?;
        let (a, b) = (provider.handle(), provider.handle());
        drop(provider);
        assert_eq!(drops.load(Ordering::Relaxed), 1);
        assert_eq!(a.access().err(), Some(ENODEV));
        drop(a);
        assert_eq!(b.access().err(), Some(ENODEV));
        drop(b);

        // Handles first (in reverse order): the implementation stays until the provider goes.
        let drops = counter()?;
        let provider = Provider::new(Gadget::new(2, &drops))?;
        let (a, b) = (provider.handle(), provider.handle());
        drop(b);
        drop(a);
        assert_eq!(drops.load(Ordering::Relaxed), 0);
        assert_eq!(provider.handle().access()?.read(), 2);
        drop(provider);
        assert_eq!(drops.load(Ordering::Relaxed), 1);

        // Interleaved, with a clone made after the revocation.
        let drops = counter()?;
        let provider = Provider::new(Gadget::new(3, &drops))?;
        let a = provider.handle();
        let b = a.clone();
        drop(a);
        drop(provider);
        let c = b.clone();
        drop(b);
        assert_eq!(c.access().err(), Some(ENODEV));
        drop(c);
        assert_eq!(drops.load(Ordering::Relaxed), 1);
        Ok(())
    }

    #[test]
    fn revoke_waits_for_guard() -> Result {
        let drops = counter()?;
        let provider = Provider::new(Gadget::new(5, &drops))?;
        let handle = provider.handle();
        let done = Arc::pin_init(Completion::new(), GFP_KERNEL)?;
        let returned = Arc::new(AtomicBool::new(false), GFP_KERNEL)?;

        let guard = handle.access()?;
        {
            let (done, returned) = (done.clone(), returned.clone());
            workqueue::system().try_spawn(GFP_KERNEL, move || {
                provider.revoke();
                returned.store(true, Ordering::Release);
                done.complete_all();
            })?;
        }
        // The revoker has cleared the pointer (new accesses fail) but must wait for us.
        let mut waited = 0;
        while !handle.is_revoked() && waited < 2000 {
            fsleep(Delta::from_millis(1));
            waited += 1;
        }
        assert!(handle.is_revoked());
        assert_eq!(handle.access().err(), Some(ENODEV));
        fsleep(Delta::from_millis(200));
        assert!(!returned.load(Ordering::Acquire));
        assert_eq!(guard.read(), 5);
        assert_eq!(drops.load(Ordering::Relaxed), 0);

        drop(guard);
        done.wait_for_completion();
        assert!(returned.load(Ordering::Acquire));
        assert_eq!(drops.load(Ordering::Relaxed), 1);
        Ok(())
    }

    #[test]
    fn revoke_during_runs_teardown_inside_the_fence() -> Result {
        let drops = counter()?;
        let shell = Shell::new(Gadget::new(9, &drops))?;
        // Teardown runs, pointer seen cleared in it, drops seen in it.
        let (torn, cleared, drops_seen) = (counter()?, counter()?, counter()?);
        let done = Arc::pin_init(Completion::new(), GFP_KERNEL)?;
        let returned = Arc::new(AtomicBool::new(false), GFP_KERNEL)?;

        let guard = shell.read()?;
        {
            let (shell, drops, done, returned) =
                (shell.clone(), drops.clone(), done.clone(), returned.clone());
            let (torn, cleared, drops_seen) = (torn.clone(), cleared.clone(), drops_seen.clone());
            workqueue::system().try_spawn(GFP_KERNEL, move || {
                let revoked = shell.revoke_during(|| {
                    cleared.store(u32::from(shell.is_revoked()), Ordering::Relaxed);
                    drops_seen.store(drops.load(Ordering::Relaxed), Ordering::Relaxed);
                    torn.fetch_add(1, Ordering::Release);
                });
                returned.store(revoked, Ordering::Release);
                done.complete_all();
            })?;
        }
        // The teardown runs while our reader is still inside: the pointer is already cleared,
        // the implementation not yet dropped, and the revocation does not return.
        let mut waited = 0;
        while torn.load(Ordering::Acquire) == 0 && waited < 2000 {
            fsleep(Delta::from_millis(1));
            waited += 1;
        }
        assert_eq!(torn.load(Ordering::Acquire), 1);
        assert_eq!(cleared.load(Ordering::Relaxed), 1);
        assert_eq!(drops_seen.load(Ordering::Relaxed), 0);
        fsleep(Delta::from_millis(200));
        assert!(!returned.load(Ordering::Acquire));
        assert_eq!(guard.read(), 9);
        assert_eq!(drops.load(Ordering::Relaxed), 0);

        drop(guard);
        done.wait_for_completion();
        assert!(returned.load(Ordering::Acquire));
        assert_eq!(drops.load(Ordering::Relaxed), 1);

        // On a revoked shell the teardown still runs, once, and nothing else happens.
        let again = torn.clone();
        assert!(!shell.revoke_during(move || {
            again.fetch_add(1, Ordering::Relaxed);
        }));
        assert_eq!(torn.load(Ordering::Relaxed), 2);
        assert_eq!(drops.load(Ordering::Relaxed), 1);
        Ok(())
    }

    struct CountNotice(AtomicU32);

    impl RevokeNotify for CountNotice {
        fn revoked(&self) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    #[test]
    fn notices_exactly_once() -> Result {
        let provider = Provider::new(0u32)?;
        let handle = provider.handle();
        let mut early = KVec::new();
        let mut notices = KVec::new();
        for _ in 0..4 {
            let n = Arc::new(CountNotice(AtomicU32::new(0)), GFP_KERNEL)?;
            notices.push(handle.notify_on_revoke(n.clone())?, GFP_KERNEL)?;
            early.push(n, GFP_KERNEL)?;
        }
        // A cancelled notice never runs.
        let cancelled = Arc::new(CountNotice(AtomicU32::new(0)), GFP_KERNEL)?;
        drop(handle.notify_on_revoke(cancelled.clone())?);
        // Neither does one dropped during the revocation, before its turn: a slow notice
        // first holds the revocation inside the delivery.
        let slow = SlowNotice::new()?;
        let slow_notice = handle.notify_on_revoke(slow.clone())?;
        let dropped_late = Arc::new(CountNotice(AtomicU32::new(0)), GFP_KERNEL)?;
        let dropped_late_notice = handle.notify_on_revoke(dropped_late.clone())?;

        let shell_handle = handle.clone();
        let done = revoke_on_worker(provider)?;
        slow.started.wait_for_completion();
        drop(dropped_late_notice);
        slow.release.complete_all();
        done.wait_for_completion();
        drop(slow_notice);
        assert_eq!(dropped_late.0.load(Ordering::Relaxed), 0);
        // Revoking again (as devres would after an explicit revoke) notifies no one again.
        assert!(!shell_handle.shell_for_test().revoke());

        for n in early.iter() {
            assert_eq!(n.0.load(Ordering::Relaxed), 1);
        }
        assert_eq!(cancelled.0.load(Ordering::Relaxed), 0);

        let late = Arc::new(CountNotice(AtomicU32::new(0)), GFP_KERNEL)?;
        let late_notice = handle.notify_on_revoke(late.clone())?;
        assert_eq!(late.0.load(Ordering::Relaxed), 1);
        drop(late_notice);
        drop(notices);
        assert_eq!(late.0.load(Ordering::Relaxed), 1);
        // Waiting for a revoked provider returns at once.
        handle.wait_revoked()?;
        Ok(())
    }

    /// A notice whose callback blocks until it is released.
    #[pin_data]
    struct SlowNotice {
        #[pin]
        started: Completion,
        #[pin]
        release: Completion,
        returned: AtomicBool,
    }

    impl SlowNotice {
        fn new() -> Result<Arc<Self>> {
            Arc::pin_init(
                pin_init!(Self {
                    started <- Completion::new(),
                    release <- Completion::new(),
                    returned: AtomicBool::new(false),
                }),
                GFP_KERNEL,
            )
        }
    }

    impl RevokeNotify for SlowNotice {
        fn revoked(&self) {
            self.started.complete_all();
            self.release.wait_for_completion();
            // Still running for a while after it was released.
            fsleep(Delta::from_millis(20));
            self.returned.store(true, Ordering::Release);
        }
    }

    /// Revokes `provider` on a worker; the returned completion says it returned.
    fn revoke_on_worker<T: Send + Sync + 'static>(
        provider: Provider<T>,
    ) -> Result<Arc<Completion>> {
        let done = Arc::pin_init(Completion::new(), GFP_KERNEL)?;
        let signal = done.clone();
        workqueue::system_unbound().try_spawn(GFP_KERNEL, move || {
            provider.revoke();
            signal.complete_all();
        })?;
        Ok(done)
    }

    #[test]
    fn notice_dropped_during_revocation_does_not_run_after_its_drop() -> Result {
        let provider = Provider::new(0u32)?;
        let handle = provider.handle();
        let slow = SlowNotice::new()?;
        let count = Arc::new(CountNotice(AtomicU32::new(0)), GFP_KERNEL)?;
        let slow_notice = handle.notify_on_revoke(slow.clone())?;
        let count_notice = handle.notify_on_revoke(count.clone())?;

        let done = revoke_on_worker(provider)?;
        // The revocation is delivering the notices: the slow one runs, the other one is next.
        slow.started.wait_for_completion();
        drop(count_notice);
        let ran_before_drop_returned = count.0.load(Ordering::Relaxed);
        slow.release.complete_all();
        done.wait_for_completion();

        assert_eq!(ran_before_drop_returned, 0);
        // Dropped before its turn: it must never run.
        assert_eq!(count.0.load(Ordering::Relaxed), 0);
        assert!(slow.returned.load(Ordering::Acquire));
        drop(slow_notice);
        Ok(())
    }

    #[test]
    fn notice_drop_waits_for_its_running_callback() -> Result {
        let provider = Provider::new(0u32)?;
        let handle = provider.handle();
        let slow = SlowNotice::new()?;
        let notice = handle.notify_on_revoke(slow.clone())?;

        let done = revoke_on_worker(provider)?;
        slow.started.wait_for_completion();

        // Drop the notice on another worker while its callback runs.
        let dropped = Arc::pin_init(Completion::new(), GFP_KERNEL)?;
        let (drop_returned, returned_at_drop) = (
            Arc::new(AtomicBool::new(false), GFP_KERNEL)?,
            Arc::new(AtomicBool::new(false), GFP_KERNEL)?,
        );
        {
            let (dropped, drop_returned) = (dropped.clone(), drop_returned.clone());
            let (slow, returned_at_drop) = (slow.clone(), returned_at_drop.clone());
            workqueue::system_unbound().try_spawn(GFP_KERNEL, move || {
                drop(notice);
                returned_at_drop.store(slow.returned.load(Ordering::Acquire), Ordering::Relaxed);
                drop_returned.store(true, Ordering::Release);
                dropped.complete_all();
            })?;
        }
        fsleep(Delta::from_millis(100));
        // The callback is still blocked: the drop must be waiting for it.
        let returned_early = drop_returned.load(Ordering::Acquire);
        slow.release.complete_all();
        dropped.wait_for_completion();
        done.wait_for_completion();

        assert!(!returned_early);
        // When the drop returned, the callback had returned.
        assert!(returned_at_drop.load(Ordering::Relaxed));
        Ok(())
    }

    /// What [`DropsOnRevoke`] drops: its own notice and another provider.
    type Held = (Option<Notice<u32>>, Option<Provider<u32>>);

    /// A notice that drops its own notice, and another provider, from its callback.
    #[pin_data]
    struct DropsOnRevoke {
        #[pin]
        held: Mutex<Held>,
    }

    impl RevokeNotify for DropsOnRevoke {
        fn revoked(&self) {
            let (notice, provider) = {
                let mut held = self.held.lock();
                (held.0.take(), held.1.take())
            };
            drop(notice);
            drop(provider);
        }
    }

    /// An implementation that owns another provider: dropping it revokes that one.
    struct Nest {
        _inner: Provider<u32>,
    }

    /// Returns whether lockdep is still on (it turns itself off after its first report).
    fn lockdep_on() -> bool {
        // SAFETY: `debug_locks` is a plain `int` that the kernel only ever sets to 0.
        unsafe { core::ptr::read_volatile(&raw const bindings::debug_locks) != 0 }
    }

    #[test]
    fn nested_revocations_are_not_recursive_locking() -> Result {
        let lockdep_was_on = lockdep_on();
        let inner = Provider::new(1u32)?;
        let inner_handle = inner.handle();
        let outer = Provider::new(Nest { _inner: inner })?;

        // A notice of a third provider that drops its own notice and a fourth provider.
        let third = Provider::new(3u32)?;
        let fourth = Provider::new(4u32)?;
        let fourth_handle = fourth.handle();
        let dropper = Arc::pin_init(
            pin_init!(DropsOnRevoke {
                held <- new_mutex!((None, Some(fourth))),
            }),
            GFP_KERNEL,
        )?;
        let notice = third.handle().notify_on_revoke(dropper.clone())?;
        dropper.held.lock().0 = Some(notice);

        // Revoking `outer` drops `Nest`, which revokes `inner` inside `outer`'s revocation.
        outer.revoke();
        assert_eq!(inner_handle.access().err(), Some(ENODEV));
        // Revoking `third` runs the notice, which revokes `fourth` and drops itself.
        third.revoke();
        assert_eq!(fourth_handle.access().err(), Some(ENODEV));
        assert!(dropper.held.lock().0.is_none());

        // Lockdep has nothing to say about either (a report would have turned it off).
        assert_eq!(lockdep_on(), lockdep_was_on);
        Ok(())
    }

    #[test]
    fn lockdep_knows_a_reader_of_its_own_shell() -> Result {
        // A revocation from inside a guard of the same shell would wait for itself. The fence
        // warns then, on the revoking thread (`SrcuFast::synchronize_expedited_during` waits on a
        // worker), through lockdep's knowledge that the thread is a reader: check that knowledge.
        let provider = Provider::new(0u32)?;
        let other = Provider::new(0u32)?;
        let handle = provider.handle();
        let shell = handle.shell_for_test();
        assert!(!shell.srcu_for_test().held_by_current());
        let guard = handle.access()?;
        if cfg!(CONFIG_DEBUG_LOCK_ALLOC) && lockdep_on() {
            assert!(shell.srcu_for_test().held_by_current());
        }
        // Only this shell: a reader of one provider may revoke another.
        let other_handle = other.handle();
        let other_srcu = other_handle.shell_for_test().srcu_for_test();
        assert!(!other_srcu.held_by_current());
        drop(guard);
        assert!(!shell.srcu_for_test().held_by_current());
        other.revoke();
        provider.revoke();
        Ok(())
    }

    define_resource_registry!(TEST_REGISTRY: Gadget);

    #[test]
    fn registry_lookup_duplicates_and_rebind() -> Result {
        let drops = counter()?;
        assert_eq!(TEST_REGISTRY.lookup(c"chip0").err(), Some(ENOENT));

        let first = Provider::new(Gadget::new(10, &drops))?;
        first.register(&TEST_REGISTRY, c"chip0")?;
        assert_eq!(first.register(&TEST_REGISTRY, c"chip1").err(), Some(EBUSY));
        let dup = Provider::new(Gadget::new(11, &drops))?;
        assert_eq!(dup.register(&TEST_REGISTRY, c"chip0").err(), Some(EEXIST));
        dup.register(&TEST_REGISTRY, c"chip1")?;
        assert_eq!(TEST_REGISTRY.len(), 2);

        let stale = TEST_REGISTRY.lookup(c"chip0")?;
        assert_eq!(stale.access()?.read(), 10);
        assert_eq!(TEST_REGISTRY.lookup(c"chip1")?.access()?.read(), 11);
        assert_eq!(TEST_REGISTRY.lookup(c"nope").err(), Some(ENOENT));

        // "Unbind" chip0 and "bind" it again: a new provider under the same name.
        drop(first);
        assert_eq!(TEST_REGISTRY.lookup(c"chip0").err(), Some(ENOENT));
        let second = Provider::new(Gadget::new(20, &drops))?;
        second.register(&TEST_REGISTRY, c"chip0")?;
        let fresh = TEST_REGISTRY.lookup(c"chip0")?;
        assert_eq!(fresh.access()?.read(), 20);
        assert_eq!(stale.access().err(), Some(ENODEV));
        assert!(!stale.same_provider(&fresh));

        // A revoked provider cannot be listed.
        let shell = Shell::new(Gadget::new(30, &drops))?;
        shell.revoke();
        let late = Provider::from_shell_for_test(shell);
        assert_eq!(late.register(&TEST_REGISTRY, c"chip2").err(), Some(ENODEV));

        drop(second);
        drop(dup);
        drop(late);
        assert!(TEST_REGISTRY.is_empty());
        assert_eq!(drops.load(Ordering::Relaxed), 4);
        assert_eq!(stale.access().err(), Some(ENODEV));
        assert_eq!(fresh.access().err(), Some(ENODEV));
        Ok(())
    }

    #[test]
    fn devres_revokes_on_unbind() -> Result {
        let drops = counter()?;
        let reg = faux::Registration::new(c"rust-resmgr-kunit", None)?;
        let dev: &Device<Bound> = reg.as_ref().as_ref();
        let provider = Provider::new_bound(dev, Gadget::new(42, &drops))?;
        let handle = provider.handle();

        // The zero-cost path, with the proof of binding.
        assert_eq!(provider.access(dev)?.read(), 42);
        let unbound = Provider::new(Gadget::new(1, &drops))?;
        assert_eq!(unbound.access(dev).err(), Some(EINVAL));
        drop(unbound);

        // Unregistering the faux device unbinds it: devres revokes the provider.
        drop(reg);
        assert!(provider.is_revoked());
        assert!(handle.is_revoked());
        assert_eq!(handle.access().err(), Some(ENODEV));
        assert_eq!(drops.load(Ordering::Relaxed), 2);
        drop(provider); // Revoking again is a no-op.
        assert_eq!(drops.load(Ordering::Relaxed), 2);
        Ok(())
    }

    /// State shared by the hammering workers.
    #[pin_data]
    struct Hammer {
        handle: Handle<Gadget>,
        ok: AtomicUsize,
        enodev: AtomicUsize,
        bad: AtomicUsize,
        #[pin]
        finished: Mutex<usize>,
        #[pin]
        all_done: Completion,
    }

    const WORKERS: usize = 4;

    #[test]
    fn concurrent_access_during_revoke() -> Result {
        for round in 0..20u32 {
            let drops = counter()?;
            let provider = Provider::new(Gadget::new(round, &drops))?;
            let handle = provider.handle();
            let hammer = Arc::pin_init(
                pin_init!(Hammer {
                    handle,
                    ok: AtomicUsize::new(0),
                    enodev: AtomicUsize::new(0),
                    bad: AtomicUsize::new(0),
                    finished <- new_mutex!(0),
                    all_done <- Completion::new(),
                }),
                GFP_KERNEL,
            )?;
            for _ in 0..WORKERS {
                let h = hammer.clone();
                workqueue::system_unbound().try_spawn(GFP_KERNEL, move || {
                    // Keep going until the revocation has been seen a few times.
                    let mut seen_enodev = 0;
                    let mut iterations = 0u32;
                    while seen_enodev < 16 && iterations < 1_000_000 {
                        iterations += 1;
                        match h.handle.access() {
                            Ok(imp) if imp.read() == round => {
                                h.ok.fetch_add(1, Ordering::Relaxed);
                            }
                            Err(e) if e == ENODEV => {
                                h.enodev.fetch_add(1, Ordering::Relaxed);
                                seen_enodev += 1;
                            }
                            _ => {
                                h.bad.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                    }
                    let mut finished = h.finished.lock();
                    *finished += 1;
                    if *finished == WORKERS {
                        h.all_done.complete_all();
                    }
                })?;
            }
            // Let the workers get going, then revoke under them.
            fsleep(Delta::from_micros(200 * i64::from(round % 5)));
            provider.revoke();
            assert_eq!(drops.load(Ordering::Relaxed), 1);
            hammer.all_done.wait_for_completion();
            assert_eq!(hammer.bad.load(Ordering::Relaxed), 0);
            assert!(hammer.enodev.load(Ordering::Relaxed) >= WORKERS * 16);
        }
        Ok(())
    }
}
