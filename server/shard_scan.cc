// ShardCore::ScanRows: enumerating the rows a shard has stored (export, debugging). Reads take
// no lock, like Lookup: a concurrent Write is seen either before or after, row by row.
#include <cstring>

#include <algorithm>

#include "common/limits.h"
#include "common/status.h"
#include "server/shard_core.h"

namespace augur::shard {

absl::StatusOr<ShardCore::ScanResult> ShardCore::ScanRows(uint32_t table_id, uint64_t start_row,
                                                          uint64_t limit, bool with_state) const {
  AUGUR_ASSIGN_OR_RETURN(TableSpec spec, registry_->Get(table_id));
  if (limit == 0 || limit > options_.max_request_rows) limit = options_.max_request_rows;
  ScanResult r;
  r.block.table_id = table_id;
  r.next_row = start_row;
  const int rf = spec.RowFloats();
  // A page stays under kShardMaxScanPageBytes.
  limit = std::min<uint64_t>(limit,
                             std::max<uint64_t>(1, kShardMaxScanPageBytes / ShardRowBytes(rf)));
  AUGUR_RETURN_IF_ERROR(store_->ScanRows(table_id, start_row, limit, rf, r.block.rows,
                                         r.block.values, r.block.versions, &r.more));
  if (!r.block.rows.empty()) r.next_row = r.block.rows.back() + 1;
  if (!with_state && rf != static_cast<int>(spec.dim)) {
    // Compact in place: row i's value moves from i*rf to i*dim (never overlaps forward).
    for (size_t i = 0; i < r.block.rows.size(); ++i)
      std::memmove(r.block.values.data() + i * spec.dim, r.block.values.data() + i * rf,
                   spec.dim * sizeof(float));
    r.block.values.resize(r.block.rows.size() * spec.dim);
  }
  return r;
}

}  // namespace augur::shard
