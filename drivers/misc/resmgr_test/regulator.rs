// SPDX-License-Identifier: GPL-2.0

//! The simulated regulator `resmgr-test-vreg`, a Rust regulator provider, and the rule that the
//! test device reaches no other regulator.

use kernel::{
    device::{
        Bound,
        Core,
        Device, //
    },
    new_mutex, platform,
    prelude::*,
    resmgr::regulator::{
        self as resmgr_regulator,
        RegulatorOps,
        Voltages, //
    },
    sync::Mutex,
};

/// The name of the simulated regulator the module registers (`RESMGR_TEST_VREG`).
pub(crate) const SIM_REGULATOR: &CStr = c"resmgr-test-vreg";

/// The regulators the device reaches: the ones the module registers itself, and no other.
///
/// `regulator_get()` finds any regulator of the system by name; through the device, a name not in
/// this list is unknown.
const OWN_REGULATORS: [&CStr; 1] = [SIM_REGULATOR];

/// Returns `name` if it is one of [`OWN_REGULATORS`], `ENOENT` (as for no such regulator) if not.
pub(crate) fn own_regulator(name: &CStr) -> Result<&'static CStr> {
    OWN_REGULATORS
        .iter()
        .find(|own| **own == name)
        .copied()
        .ok_or(ENOENT)
}

/// The simulated regulator: enabled flag and output voltage.
#[pin_data]
struct SimRegulator {
    #[pin]
    state: Mutex<(bool, i32)>,
}

impl RegulatorOps for SimRegulator {
    fn enable(&self, _dev: &Device<Bound>) -> Result {
        self.state.lock().0 = true;
        Ok(())
    }

    fn disable(&self, _dev: &Device<Bound>) -> Result {
        self.state.lock().0 = false;
        Ok(())
    }

    fn is_enabled(&self, _dev: &Device<Bound>) -> Result<bool> {
        Ok(self.state.lock().0)
    }

    fn get_voltage(&self, _dev: &Device<Bound>) -> Result<i32> {
        Ok(self.state.lock().1)
    }

    fn set_voltage(&self, _dev: &Device<Bound>, microvolts: i32) -> Result {
        self.state.lock().1 = microvolts;
        Ok(())
    }
}

/// The platform driver of the simulated regulator.
pub(crate) struct SimRegulatorDriver;

/// 1.0 V to 3.3 V in 100 mV steps.
const SIM_VOLTAGES: Voltages = Voltages {
    min_uv: 1_000_000,
    step_uv: 100_000,
    count: 24,
};

impl platform::Driver for SimRegulatorDriver {
    type IdInfo = ();
    type Data<'bound> = Self;

    fn probe<'bound>(
        pdev: &'bound platform::Device<Core<'_>>,
        _info: Option<&'bound Self::IdInfo>,
    ) -> impl PinInit<Self, Error> + 'bound {
        resmgr_regulator::register(
            pdev.as_ref(),
            SIM_REGULATOR,
            SIM_VOLTAGES,
            try_pin_init!(SimRegulator {
                state <- new_mutex!((false, SIM_VOLTAGES.min_uv)),
            }? Error),
        )?;
        Ok(SimRegulatorDriver)
    }
}
