pub(crate) mod pyjson;
