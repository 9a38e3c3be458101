// An inproc bolt of the node tier's own: it refuses every tuple with the
// message its init gives, so its topology goes to error with that text.
"use strict";

class RefusingBolt {
  init(name, config, context, callback) {
    this.message = config.message;
    callback();
  }
  heartbeat() {}
  shutdown(callback) {
    callback();
  }
  receive(data, stream_id, callback) {
    callback(new Error(this.message));
  }
}

exports.create = () => new RefusingBolt();
