// Dynamic batching for one model (serve): requests queue up, and each of the model's lanes (a
// thread) collects those that can share a forward and runs it, taking its share of the rows
// waiting and running (so that two lanes run batches of a size). No libtorch here.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "model.h"
#include "sample.h"
#include "tensor.h"

namespace ptjs {

struct batcher_options {
  int max_batch_size = 16;  // rows per forward; a single request with more rows runs alone
  int max_delay_ms = 5;     // how long a partial batch may wait for requests on their way (below)
  size_t queue_size = 256;  // requests waiting (not yet in a forward); submit() refuses more
  int lanes = 1;            // batches in a forward at once, each on its own thread
  int lane_threads = 0;     // libtorch threads per forward in those threads; 0: the process's
};

// What one request asks of the model: either one preprocessed image (a sample at the tensor
// stage, HWC) or one host tensor per forward argument whose first dimension is this
// request's rows. Requests batch together only when everything but that first dimension
// matches (image size and type, or every tensor's datatype and trailing shape).
struct batch_input {
  sample image;                      // used when `tensors` is empty
  std::vector<host_tensor> tensors;
};

struct batch_result {
  std::vector<host_tensor> outputs;  // this request's rows only (first dimension = its rows)
  double queue_ms = 0;               // from submit() until its forward started
  double infer_ms = 0;               // the forward that ran it (shared with its batch)
  int batch_rows = 0;                // rows in that forward
};

class batcher {
 public:
  using clock = std::chrono::steady_clock;
  // Called on a lane's thread after each successful forward: rows in it, its duration.
  using batch_observer = std::function<void(int rows, double infer_ms)>;

  // Starts the lanes' threads. `net` must outlive nothing: the batcher keeps it alive.
  batcher(std::shared_ptr<const model> net, batcher_options options, batch_observer on_batch = {});
  // Stops taking requests, runs every queued one (no delay), joins the threads.
  ~batcher();
  batcher(const batcher&) = delete;
  batcher& operator=(const batcher&) = delete;

  // Queues one request; thread-safe. Throws ptjs::error(unavailable) when the queue is full or
  // the batcher is stopping, error(invalid_input) for an input with no rows. The future yields
  // the outputs, or throws ptjs::error: internal when forward failed for this input (a batch
  // that fails is retried one request at a time, so one bad input fails only its own request),
  // timeout when `deadline` passed before its forward could start.
  std::future<batch_result> submit(batch_input input, clock::time_point deadline);

  // Requests waiting for a forward; thread-safe.
  size_t queue_depth() const;

  // A request on its way to submit() (its body being parsed, its image preprocessed). While
  // any is outstanding, a partial batch waits for it, up to max_delay_ms from the moment the
  // model could have started that batch (like TorchServe's batch delay); when none is, the
  // batch starts at once, so a lone request never waits. Release it after the request's last
  // submit() (or on failure); the destructor releases it too.
  class arrival {
   public:
    arrival() = default;
    explicit arrival(batcher* owner);
    arrival(arrival&& other) noexcept : owner_(std::exchange(other.owner_, nullptr)) {}
    arrival& operator=(arrival&&) = delete;
    ~arrival() { release(); }
    void release();

   private:
    batcher* owner_ = nullptr;
  };
  arrival expect() { return arrival(this); }

 private:
  struct task {
    std::string key;  // what must match to share a forward
    int64_t rows = 1;
    batch_input input;
    clock::time_point enqueued;
    clock::time_point deadline;
    std::promise<batch_result> result;
  };
  using task_list = std::vector<std::unique_ptr<task>>;

  void loop();
  // Moves the next batch out of queue_ (the oldest task and those sharing its key, up to
  // `limit` rows; a first task with more runs alone); caller holds mu_.
  task_list take_batch(int64_t limit);
  // Runs a batch; on failure retries each task alone so only the bad ones fail.
  void run(task_list& batch);
  void forward(task_list& batch);

  const std::shared_ptr<const model> net_;
  const batcher_options options_;
  const batch_observer on_batch_;

  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::deque<std::unique_ptr<task>> queue_;  // guarded by mu_
  bool stop_ = false;                        // guarded by mu_
  int incoming_ = 0;                         // outstanding arrivals; guarded by mu_
  int64_t running_rows_ = 0;                 // rows in the lanes' forwards; guarded by mu_
  std::vector<std::thread> lanes_;           // started last, after every member above
};

}  // namespace ptjs
