//! Order-preserving work on every core with the `parallel` feature, and on this thread
//! without it: the same results, in the same order, either way.
//!
//! The stages after corroboration map, filter and sort long lists (incidents, findings,
//! obligations) item by item. These helpers say once how that runs, so a stage does not carry
//! a `cfg` twin of each loop. Rayon's `collect` keeps the input order, and its
//! `par_sort_by` is stable like `sort_by`: with a total order both give the one stable
//! arrangement of the input, so no output can tell how many threads made it.

/// `items` mapped through `f`, in order.
pub(crate) fn map<T, U, F>(items: &[T], f: F) -> Vec<U>
where
    T: Sync,
    U: Send,
    F: Fn(&T) -> U + Sync + Send,
{
    #[cfg(feature = "parallel")]
    {
        use rayon::prelude::*;
        items.par_iter().map(f).collect()
    }
    #[cfg(not(feature = "parallel"))]
    {
        items.iter().map(f).collect()
    }
}

/// The `Some` results of `f` over `items`, in order.
pub(crate) fn filter_map<T, U, F>(items: &[T], f: F) -> Vec<U>
where
    T: Sync,
    U: Send,
    F: Fn(&T) -> Option<U> + Sync + Send,
{
    #[cfg(feature = "parallel")]
    {
        use rayon::prelude::*;
        items.par_iter().filter_map(f).collect()
    }
    #[cfg(not(feature = "parallel"))]
    {
        items.iter().filter_map(f).collect()
    }
}

/// Sorts `items` stably by `compare`, as `slice::sort_by` does.
pub(crate) fn sort_by<T, F>(items: &mut [T], compare: F)
where
    T: Send,
    F: Fn(&T, &T) -> std::cmp::Ordering + Sync,
{
    #[cfg(feature = "parallel")]
    {
        use rayon::prelude::*;
        items.par_sort_by(compare);
    }
    #[cfg(not(feature = "parallel"))]
    {
        items.sort_by(compare);
    }
}

/// The order in which `items` sort stably by `compare` (indices into `items`), found by
/// sorting references: large items do not move.
pub(crate) fn sort_index_by<T, F>(items: &[T], compare: F) -> Vec<usize>
where
    T: Sync,
    F: Fn(&T, &T) -> std::cmp::Ordering + Sync,
{
    let mut order: Vec<(usize, &T)> = items.iter().enumerate().collect();
    sort_by(&mut order, |a, b| compare(a.1, b.1));
    order.into_iter().map(|(i, _)| i).collect()
}

/// The items at `order` (indices into `items`; an index repeated or out of range is
/// skipped), in that order, rearranged where they are: no second list of large items is ever
/// held. Items not named are dropped.
pub(crate) fn gather<T>(mut items: Vec<T>, order: &[usize]) -> Vec<T> {
    // The whole permutation: the named indices first, then the others, so that following
    // its cycles puts every item at its place with swaps alone.
    let mut named = vec![false; items.len()];
    let mut permutation: Vec<usize> = Vec::with_capacity(items.len());
    for &i in order {
        if let Some(seen) = named.get_mut(i) {
            if !*seen {
                *seen = true;
                permutation.push(i);
            }
        }
    }
    let kept = permutation.len();
    permutation.extend((0..items.len()).filter(|&i| !named.get(i).copied().unwrap_or(true)));
    drop(named);
    // Position `j` must receive the item now at `permutation[j]`. Each cycle is followed
    // once: a swap puts one item at its place, and the place is then marked done.
    const DONE: usize = usize::MAX;
    for start in 0..permutation.len() {
        let mut at = start;
        while let Some(from) = permutation.get_mut(at).map(|p| std::mem::replace(p, DONE)) {
            if from == DONE || from == start {
                break;
            }
            items.swap(at, from);
            at = from;
        }
    }
    items.truncate(kept);
    items
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    proptest! {
        /// Long enough inputs that rayon splits them: the results are the serial ones.
        #[test]
        fn every_helper_gives_the_serial_result(
            items in proptest::collection::vec((0u8..8, any::<u16>()), 0..5_000),
        ) {
            let square = |&(k, v): &(u8, u16)| (u32::from(k), u32::from(v) * u32::from(v));
            prop_assert_eq!(super::map(&items, square), items.iter().map(square).collect::<Vec<_>>());
            let odd = |&(k, v): &(u8, u16)| (v % 2 == 1).then_some((k, v));
            prop_assert_eq!(
                super::filter_map(&items, odd),
                items.iter().filter_map(odd).collect::<Vec<_>>()
            );
            // Sorting by the key alone leaves ties, which only a stable sort keeps in order.
            let mut sorted = items.clone();
            super::sort_by(&mut sorted, |a, b| a.0.cmp(&b.0));
            let mut reference = items.clone();
            reference.sort_by_key(|pair| pair.0);
            prop_assert_eq!(&sorted, &reference);
            let order = super::sort_index_by(&items, |a, b| a.0.cmp(&b.0));
            prop_assert_eq!(super::gather(items, &order), reference);
        }

        /// Gathering some items, with indices repeated or out of range, gives what taking
        /// each named item once from a copy gives; the others are dropped.
        #[test]
        fn gathering_some_items_keeps_those_named_in_order(
            items in proptest::collection::vec(any::<u16>(), 0..300),
            order in proptest::collection::vec(0usize..400, 0..400),
        ) {
            let mut taken = vec![false; items.len()];
            let reference: Vec<u16> = order
                .iter()
                .filter_map(|&i| {
                    let first = !std::mem::replace(taken.get_mut(i)?, true);
                    first.then(|| items.get(i).copied()).flatten()
                })
                .collect();
            prop_assert_eq!(super::gather(items, &order), reference);
        }
    }
}
