namespace EdgeCodec;
