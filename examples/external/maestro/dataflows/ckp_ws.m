Network resnet50 {
  Layer res2_3x3 {
    Type: CONV
    Stride { X: 1, Y: 1 }
    Dimensions { K: 64, C: 64, R: 3, S: 3, Y: 58, X: 58 }
    Dataflow {
        SpatialMap(1,1) C;
        TemporalMap(64,64) K;
        TemporalMap(Sz(R),Sz(R)) R;
        TemporalMap(Sz(S),Sz(S)) S;
        TemporalMap(1,1) Y';
        TemporalMap(1,1) X';
        Cluster(64, P);
        SpatialMap(1,1) K;
        TemporalMap(Sz(R),Sz(R)) R;
        TemporalMap(Sz(S),Sz(S)) S;
    }
  }
}
