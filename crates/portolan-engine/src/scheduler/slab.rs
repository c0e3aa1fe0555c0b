//! The probes in flight, in numbered slots with generations.
//!
//! A probe's slot number is its [`Token`]: the transport keeps its sockets in a plain
//! vector indexed by it, so tokens are dense and reused (a scan of 65 535 ports at a
//! window of 1 000 needs about 1 000 slots, not 65 535). Reuse is why each slot also
//! has a generation, bumped every time a probe moves in: a deadline or an ageing mark
//! is filed as `(token, generation)` and is ignored once that probe has gone, instead
//! of being searched for and removed from its heap (which would cost a scan of the
//! heap per answer).
//!
//! A token passes through three states: *free*, *reserved* (handed to the transport
//! for a `start` whose outcome is not known yet) and *occupied* (a probe is in
//! flight). A probe that is taken out without its token being freed (it expired, and
//! its socket has still to be cancelled) keeps the token reserved until
//! [`ProbeSlab::free`], so the token cannot be handed out again before the transport
//! has forgotten it.

use crate::transport::Token;

/// Generation of a slot; bumped each time a probe moves in.
pub(crate) type Generation = u32;

#[derive(Debug)]
enum State<P> {
    Free,
    Reserved,
    Occupied(P),
}

#[derive(Debug)]
struct Slot<P> {
    generation: Generation,
    state: State<P>,
}

/// Probes in flight, by token.
#[derive(Debug)]
pub(crate) struct ProbeSlab<P> {
    slots: Vec<Slot<P>>,
    free: Vec<Token>,
    occupied: usize,
}

impl<P> Default for ProbeSlab<P> {
    fn default() -> Self {
        ProbeSlab {
            slots: Vec::new(),
            free: Vec::new(),
            occupied: 0,
        }
    }
}

impl<P> ProbeSlab<P> {
    /// Probes in flight.
    pub(crate) fn len(&self) -> usize {
        self.occupied
    }

    /// A token for the next probe, the most recently freed one first. It stays
    /// reserved until [`Self::insert`] fills it or [`Self::free`] gives it back.
    pub(crate) fn reserve(&mut self) -> Token {
        let token = self.free.pop().unwrap_or_else(|| {
            self.slots.push(Slot {
                generation: 0,
                state: State::Free,
            });
            self.slots.len() - 1
        });
        self.slots[token].state = State::Reserved;
        token
    }

    /// Gives back a reserved token, or one whose probe was taken out with
    /// [`Self::take`]. A token that is free, occupied or out of range is ignored.
    pub(crate) fn free(&mut self, token: Token) {
        if let Some(slot) = self.slots.get_mut(token) {
            if matches!(slot.state, State::Reserved) {
                slot.state = State::Free;
                self.free.push(token);
            }
        }
    }

    /// Puts a probe in a reserved slot and returns its new generation; `None` (and
    /// the probe is dropped) if the token was not reserved.
    pub(crate) fn insert(&mut self, token: Token, probe: P) -> Option<Generation> {
        let slot = self.slots.get_mut(token)?;
        if !matches!(slot.state, State::Reserved) {
            return None;
        }
        slot.generation = slot.generation.wrapping_add(1);
        slot.state = State::Occupied(probe);
        self.occupied += 1;
        Some(slot.generation)
    }

    /// The probe in `token`'s slot, if it is still the one of `generation`.
    pub(crate) fn get_mut(&mut self, token: Token, generation: Generation) -> Option<&mut P> {
        match self.slots.get_mut(token) {
            Some(Slot {
                generation: g,
                state: State::Occupied(probe),
            }) if *g == generation => Some(probe),
            _ => None,
        }
    }

    /// Whether `token` holds the probe of `generation`.
    pub(crate) fn is_live(&self, token: Token, generation: Generation) -> bool {
        self.slots
            .get(token)
            .is_some_and(|s| s.generation == generation && matches!(s.state, State::Occupied(_)))
    }

    /// Takes the probe out and frees its token at once (the transport has already
    /// forgotten it: it answered).
    pub(crate) fn remove(&mut self, token: Token) -> Option<P> {
        let probe = self.take(token)?;
        self.free(token);
        Some(probe)
    }

    /// Takes the probe out but keeps its token reserved until [`Self::free`].
    pub(crate) fn take(&mut self, token: Token) -> Option<P> {
        let slot = self.slots.get_mut(token)?;
        if !matches!(slot.state, State::Occupied(_)) {
            return None;
        }
        let State::Occupied(probe) = std::mem::replace(&mut slot.state, State::Reserved) else {
            return None;
        };
        self.occupied -= 1;
        Some(probe)
    }

    /// Every probe in flight with its token and generation.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (Token, Generation, &P)> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(token, s)| match &s.state {
                State::Occupied(p) => Some((token, s.generation, p)),
                State::Free | State::Reserved => None,
            })
    }

    /// The tokens of every probe in flight.
    pub(crate) fn tokens(&self) -> Vec<Token> {
        self.iter().map(|(token, _, _)| token).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_dense_and_reused_last_freed_first() {
        let mut slab = ProbeSlab::default();
        let a = slab.reserve();
        let b = slab.reserve();
        assert_eq!((a, b), (0, 1));
        slab.insert(a, "a").unwrap();
        slab.insert(b, "b").unwrap();
        assert_eq!(slab.len(), 2);
        assert_eq!(slab.remove(a), Some("a"));
        assert_eq!(
            slab.reserve(),
            a,
            "a freed slot is reused before the slab grows"
        );
        assert_eq!(slab.reserve(), 2);
    }

    #[test]
    fn a_stale_generation_does_not_reach_the_new_probe() {
        let mut slab = ProbeSlab::default();
        let t = slab.reserve();
        let first = slab.insert(t, 1).unwrap();
        assert!(slab.is_live(t, first));
        slab.remove(t);
        assert!(!slab.is_live(t, first), "gone");
        let t2 = slab.reserve();
        assert_eq!(t2, t);
        let second = slab.insert(t2, 2).unwrap();
        assert_ne!(first, second);
        assert!(!slab.is_live(t, first), "the old deadline is skipped");
        assert_eq!(slab.get_mut(t, first), None);
        assert_eq!(slab.get_mut(t, second), Some(&mut 2));
    }

    #[test]
    fn a_taken_token_is_not_handed_out_until_freed() {
        let mut slab = ProbeSlab::default();
        let t = slab.reserve();
        slab.insert(t, ()).unwrap();
        assert_eq!(slab.take(t), Some(()));
        assert_eq!(slab.len(), 0);
        assert_ne!(slab.reserve(), t, "still waiting for its cancel");
        slab.free(t);
        assert_eq!(slab.reserve(), t);
    }

    #[test]
    fn misuse_is_refused_not_a_panic() {
        let mut slab = ProbeSlab::default();
        assert_eq!(slab.insert(7, 'x'), None, "never reserved");
        let t = slab.reserve();
        slab.insert(t, 'a').unwrap();
        assert_eq!(slab.insert(t, 'b'), None, "occupied");
        slab.free(t);
        let other = slab.reserve();
        assert_ne!(other, t, "an occupied token is not freed");
        slab.free(other);
        assert_eq!(slab.remove(99), None);
        slab.free(99);
        slab.remove(t);
        slab.free(t);
        assert_eq!(slab.reserve(), t);
        assert_eq!(slab.reserve(), other);
        assert_eq!(
            slab.reserve(),
            2,
            "freed once only, though given back twice"
        );
    }

    #[test]
    fn iter_lists_what_is_in_flight() {
        let mut slab = ProbeSlab::default();
        for v in 0..5 {
            let t = slab.reserve();
            slab.insert(t, v).unwrap();
        }
        slab.remove(1);
        slab.remove(3);
        let left: Vec<_> = slab.iter().map(|(t, _, v)| (t, *v)).collect();
        assert_eq!(left, [(0, 0), (2, 2), (4, 4)]);
        assert_eq!(slab.tokens(), [0, 2, 4]);
    }
}
