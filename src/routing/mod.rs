//! Routing strategies that socket types compose: load balancing (`lb`) for outbound,
//! fair queueing (`fq`) for inbound, distribution (`dist`) for PUB, and the subscription
//! tries (`trie`, `mtrie`, both over the prefix tree in `radix`).

pub mod active_set;
pub mod dist;
pub mod fq;
pub mod lb;
pub mod mtrie;
pub mod radix;
pub mod trie;
