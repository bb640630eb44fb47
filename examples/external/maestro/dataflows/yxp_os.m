Network resnet50 {
  Layer res2_3x3 {
    Type: CONV
    Stride { X: 1, Y: 1 }
    Dimensions { K: 64, C: 64, R: 3, S: 3, Y: 58, X: 58 }
    Dataflow {
        TemporalMap(1,1) K;
        TemporalMap(1,1) C;
        SpatialMap(Sz(R), 1) Y;
        TemporalMap(10,8) X;
        Cluster(8, P);
        SpatialMap(Sz(S), 1) X;
        TemporalMap(Sz(R), Sz(R)) R;
        TemporalMap(Sz(S), Sz(S)) S;
    }
  }
}
