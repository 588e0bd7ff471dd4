//! Interpreter, IVR and block tests over a scripted in-memory call.

mod fake;
mod interpreter;
mod ivr;
