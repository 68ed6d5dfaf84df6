//! One integration-test binary (faster to link than one per file). Every test that needs the
//! broker talks to the real RabbitMQ on 127.0.0.1:5672 under its own queue prefix.

mod harness;

mod architecture;
mod cli;
mod dlq;
mod receiver;
mod secrets;
mod worker_loop;
