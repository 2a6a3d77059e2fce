// FAISS's exact search for bench_identify (linked in only when CMake finds libfaiss-dev).
// A C interface so that the benchmark itself stays C.
#include <faiss/IndexFlat.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>

#ifdef _OPENMP
#include <omp.h>
#endif

extern "C" {

void *faiss_flat_create(int dim, const float *data, long n)
{
    auto *index = new faiss::IndexFlatL2(dim);
    index->add(n, data);
    return index;
}

void faiss_flat_search(void *index, const float *q, long nq, int k, float *dist, long *labels)
{
    static_assert(sizeof(faiss::Index::idx_t) == sizeof(long), "FAISS labels are 64-bit");
    auto *ix = static_cast<faiss::IndexFlatL2 *>(index);
    ix->search(nq, q, k, dist, reinterpret_cast<faiss::Index::idx_t *>(labels));
}

void faiss_flat_free(void *index) { delete static_cast<faiss::IndexFlatL2 *>(index); }

// Version, threads and the BLAS the process loaded (FAISS's batched search is one sgemm).
const char *faiss_flat_info(void)
{
    static char buf[512];
    std::string blas = "unknown BLAS";
    std::ifstream maps("/proc/self/maps");
    std::string line;
    while (std::getline(maps, line)) {
        auto pos = line.find('/');
        if (pos == std::string::npos)
            continue;
        std::string path = line.substr(pos);
        if (path.find("blas") != std::string::npos) {
            blas = path;
            break;
        }
    }
    int threads = 1;
#ifdef _OPENMP
    threads = omp_get_max_threads();
#endif
    std::snprintf(buf, sizeof buf, "IndexFlatL2 (FAISS %d.%d.%d), %d OpenMP threads, BLAS %s",
                  FAISS_VERSION_MAJOR, FAISS_VERSION_MINOR, FAISS_VERSION_PATCH, threads,
                  blas.c_str());
    return buf;
}
}
