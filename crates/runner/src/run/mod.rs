//! One run: the instance actor that owns its pytest from start to result ([`instance`]), and what it owns on the
//! way: the pytest command it starts ([`command`]), the test selection handed to the plugin ([`selection`]) and the
//! outbox of events on their way to the requester ([`outbox`]).

pub(crate) mod command;
pub(crate) mod instance;
mod outbox;
pub(crate) mod selection;
