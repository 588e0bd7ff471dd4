//! prost's codec, but a request that is not valid protobuf is
//! `INVALID_ARGUMENT` (the client's fault) where tonic says `INTERNAL`.

use std::marker::PhantomData;

use prost::Message;
use tonic::codec::{BufferSettings, Codec as TonicCodec, DecodeBuf, Decoder, ProstCodec};
use tonic::Status;

/// The services' codec (named in `build.rs`).
pub struct Codec<T, U>(ProstCodec<T, U>, PhantomData<(T, U)>);

impl<T, U> Default for Codec<T, U> {
    fn default() -> Self {
        Codec(ProstCodec::default(), PhantomData)
    }
}

impl<T, U> TonicCodec for Codec<T, U>
where
    T: Message + Send + 'static,
    U: Message + Default + Send + 'static,
{
    type Encode = T;
    type Decode = U;
    type Encoder = <ProstCodec<T, U> as TonicCodec>::Encoder;
    type Decoder = Strict<<ProstCodec<T, U> as TonicCodec>::Decoder>;

    fn encoder(&mut self) -> Self::Encoder {
        self.0.encoder()
    }

    fn decoder(&mut self) -> Self::Decoder {
        Strict(self.0.decoder())
    }
}

/// A decoder whose failures are the sender's.
pub struct Strict<D>(D);

impl<D: Decoder<Error = Status>> Decoder for Strict<D> {
    type Item = D::Item;
    type Error = Status;

    fn decode(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<Self::Item>, Status> {
        self.0
            .decode(buf)
            .map_err(|e| Status::invalid_argument(format!("malformed protobuf message: {}", e.message())))
    }

    fn buffer_settings(&self) -> BufferSettings {
        self.0.buffer_settings()
    }
}
